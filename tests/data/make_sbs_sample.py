"""Write ``sbs_sample.txt``: real ADS-B positions re-encoded as SBS-1 BaseStation lines.

No SBS recording was available, so this script takes real positions of three aircraft from
``switzerland.json.gz`` (the ``traffic`` library's sample, data from the OpenSky Network) and
writes what a dump1090-style receiver would have sent on port 30003 for them:

* ``MSG,1`` (identification: callsign) when an aircraft first shows up, then every 20 positions
  (the first one of ``3CD35B`` only after its third position, so that readers must carry the
  callsign backward);
* ``MSG,4`` (velocity: ground speed, track, vertical rate) 0.3 s before each position;
* ``MSG,3`` (airborne position: altitude, latitude, longitude) at the position's own time;
* ``MSG,5`` (altitude only) now and then;

followed by a few deliberately broken lines (listed in ``BROKEN``). Times are the "generated"
date and time fields, UTC. The output is committed; the script documents how it was made::

    .venv/bin/python tests/data/make_sbs_sample.py /work/shared/data/adsb/switzerland.json.gz

(a second argument writes elsewhere; ``tests/tracks/test_reader_sbs.py`` checks that the
committed file is what the script writes).
"""

import gzip
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

AIRCRAFT = ("4ca679", "3c0f31", "3cd35b")
POSITIONS_PER_AIRCRAFT = 100
OUTPUT = Path(__file__).with_name("sbs_sample.txt")

BROKEN = [
    "MSG,3,1,1,3CD35B,1,2018/08/01,06:40:00.000,2018/08/01,06:40:00.000",  # too few fields
    "MSG,3,1,1,XYZ123,1,2018/08/01,06:40:01.000,2018/08/01,06:40:01.000,,35000,,,46.5,7.5,,,0,0,0,0",
    "MSG,3,1,1,3CD35B,1,2018/08/01,06:40:02.000,2018/08/01,06:40:02.000,,35000,,,north,7.5,,,0,0,0,0",
    "MSG,3,1,1,3CD35B,1,2018/13/01,06:40:03.000,2018/13/01,06:40:03.000,,35000,,,46.5,7.5,,,0,0,0,0",
    "MSG,3,1,1,3CD35B,1,2018/08/01,06:40:04.000,2018/08/01,06:40:04.000,,35000,,,,,,,0,0,0,0",
    "this is not an SBS line",
]


def sbs_line(kind: int, hex_id: str, when: datetime, **values: Any) -> str:
    day = when.strftime("%Y/%m/%d")
    clock = when.strftime("%H:%M:%S.") + f"{when.microsecond // 1000:03d}"
    fields = ["MSG", str(kind), "1", "1", hex_id.upper(), "1", day, clock, day, clock]
    for name in ("callsign", "alt", "gs", "track", "lat", "lon", "vr", "squawk"):
        value = values.get(name)
        fields.append("" if value is None else str(value))
    fields += ["0", "0", "0", "0"]
    return ",".join(fields)


def positions(source: Path) -> dict[str, list[dict[str, Any]]]:
    records = json.loads(gzip.decompress(source.read_bytes()))
    chosen: dict[str, list[dict[str, Any]]] = {hex_id: [] for hex_id in AIRCRAFT}
    for record in records:
        track = chosen.get(record["icao24"])
        if track is not None and len(track) < POSITIONS_PER_AIRCRAFT:
            track.append(record)
    return chosen


def lines_for(hex_id: str, track: list[dict[str, Any]]) -> list[tuple[datetime, str]]:
    identify_at = 3 if hex_id == "3cd35b" else 0
    out: list[tuple[datetime, str]] = []

    def emit(kind: int, when: datetime, **values: Any) -> None:
        out.append((when, sbs_line(kind, hex_id, when, **values)))

    for number, record in enumerate(track):
        when = datetime.fromtimestamp(record["timestamp"] / 1000, tz=UTC)
        if number % 20 == identify_at:
            emit(1, when - timedelta(seconds=0.5), callsign=record["callsign"])
        emit(
            4,
            when - timedelta(seconds=0.3),
            gs=round(record["groundspeed"]),
            track=round(record["track"], 1),
            vr=round(record["vertical_rate"]),
        )
        emit(
            3,
            when,
            alt=round(record["altitude"]),
            lat=round(record["latitude"], 5),
            lon=round(record["longitude"], 5),
        )
        if number % 10 == 5:
            emit(5, when + timedelta(seconds=2), alt=round(record["altitude"]))
    return out


def main(source: Path, output: Path = OUTPUT) -> None:
    chosen = positions(source)
    timed = [line for hex_id, track in chosen.items() for line in lines_for(hex_id, track)]
    timed.sort(key=lambda pair: pair[0])
    output.write_text("\n".join([line for _, line in timed] + BROKEN) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(*(Path(arg) for arg in sys.argv[1:3]))
