"""The ADS-B sniffers claim their own files and nobody else's.

Each sniffer is run on every sample file, whatever format wins ``--format auto``, so that a
too-greedy sniffer shows up even when a higher-priority format happens to hide it today.
"""

from pathlib import Path

import pytest

from parley.tracks.readers import adsb_json, beast, detect_format, jet1090, opensky, readsb, sbs
from parley.tracks.readers.base import Format
from parley.tracks.readers.fileio import read_head

ADSB_FORMATS: dict[str, Format] = {
    fmt.name: fmt
    for module in (adsb_json, opensky, readsb, sbs, beast, jet1090)
    for fmt in module.FORMATS
}

#: File name -> the ADS-B format that must claim it (files not listed: none may).
TEST_DATA_FORMATS = {
    "adsb_switzerland_500.json.gz": "traffic-json",
    "adsb_aircraft_carrier_300.json.gz": "traffic-json",
    "adsb_quickstart_200.json.gz": "traffic-json",
    "adsb_noisy_spoofing_300.json.gz": "traffic-json",
    "opensky_states_uk_400.csv": "opensky-csv",
    "readsb_trace_ac671b_300.json": "readsb-trace",
    "readsb_aircraft.json": "readsb-aircraft",
    "sbs_sample.txt": "sbs",
    "sample_dump1090.bin": "beast",
    "rs1090_flight_1000.jsonl.gz": "jet1090",
}
SHARED_FORMATS = {
    "switzerland.json.gz": "traffic-json",
    "quickstart.json.gz": "traffic-json",
    "bornholm.json.gz": "traffic-json",
    "inflight_refuelling.json.gz": "traffic-json",
    "aircraft_carrier.json.gz": "traffic-json",
    "noisy_spoofing.json.gz": "traffic-json",
    "opensky_states_uk_20210712.csv": "opensky-csv",
    "readsb_trace_full_ac671b.json": "readsb-trace",
    "rs1090_full_flight_short.jsonl.gz": "jet1090",
    "sample_dump1090.bin": "beast",
}


def _claims(path: Path) -> list[str]:
    head = read_head(path)
    return [name for name, fmt in ADSB_FORMATS.items() if fmt.sniff(path, head)]


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "README.md")


def test_each_test_data_file_is_claimed_by_its_format_only(test_data: Path) -> None:
    files = _files(test_data)
    assert {p.name for p in files} >= set(TEST_DATA_FORMATS)

    claims = {p.relative_to(test_data).as_posix(): _claims(p) for p in files}

    expected = {
        p.relative_to(test_data).as_posix(): (
            [TEST_DATA_FORMATS[p.name]]
            if p.parent == test_data and p.name in TEST_DATA_FORMATS
            else []
        )
        for p in files
    }
    assert claims == expected


@pytest.mark.parametrize(("name", "expected"), sorted(TEST_DATA_FORMATS.items()))
def test_auto_detection_of_test_data(test_data: Path, name: str, expected: str) -> None:
    assert detect_format(test_data / name).name == expected


@pytest.mark.shared
def test_each_shared_file_is_claimed_by_its_format_only(shared_data: Path) -> None:
    files = _files(shared_data)

    claims = {p.relative_to(shared_data).as_posix(): _claims(p) for p in files}

    expected = {
        p.relative_to(shared_data).as_posix(): (
            [SHARED_FORMATS[p.name]] if p.parent.name == "adsb" else []
        )
        for p in files
    }
    assert claims == expected
    assert all(detect_format(shared_data / "adsb" / n).name == f for n, f in SHARED_FORMATS.items())
