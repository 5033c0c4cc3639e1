"""``baltic-2016``: the April 2016 encounters, found by ``parley detect`` with their classes."""

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from parley.cli.main import run
from parley.encounters.detector import detect
from parley.errors import InputError
from parley.scenarios import build_scenario, expected_encounters, scenario_params, show_params
from parley.scenarios.april2016 import donald_cook_11_april, donald_cook_12_april, rc135_14_april
from parley.scenarios.builders import concat_tracks
from parley.tracks.load import load_tracks
from parley.tracks.schema import CANONICAL_COLUMNS, CIVIL

NAME = "baltic-2016"


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scenario") / "baltic-2016.parquet"
    assert run(["scenario", "build", NAME, "-o", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def detected(scenario_file: Path) -> pl.DataFrame:
    return detect(load_tracks([scenario_file]).table).encounters


def _found(encounters: pl.DataFrame) -> list[tuple[str, tuple[str, str], str, str, str]]:
    return sorted(
        (
            row["cpa_time"].date().isoformat(),
            tuple(sorted((row["a"], row["b"]))),
            row["kind"],
            row["severity"],
            row["reasons"][0],
        )
        for row in encounters.iter_rows(named=True)
    )


def test_detect_finds_exactly_the_april_2016_encounters(detected: pl.DataFrame) -> None:
    expected = sorted(
        (e["start"].date().isoformat(), e["pair"], e["kind"], e["severity"], e["rules"][0])
        for e in expected_encounters(NAME)
    )
    assert _found(detected) == expected
    assert expected == [
        ("2016-04-11", ("sim:ddg75", "sim:su24-1"), "air-sea", "serious", "low-close-pass"),
        ("2016-04-11", ("sim:ddg75", "sim:su24-2"), "air-sea", "serious", "low-close-pass"),
        ("2016-04-12", ("sim:ddg75", "sim:ka27"), "air-sea", "serious", "low-close-pass"),
        ("2016-04-12", ("sim:ddg75", "sim:su24-1"), "air-sea", "high-risk", "low-fast-pass"),
        ("2016-04-12", ("sim:ddg75", "sim:su24-2"), "air-sea", "high-risk", "low-fast-pass"),
        ("2016-04-14", ("sim:rc135", "sim:su27"), "air-air", "high-risk", "overflight"),
    ]


def test_the_detected_geometry_is_the_record(detected: pl.DataFrame) -> None:
    by_pair = {(r["a"], r["b"], r["severity"]): r for r in detected.iter_rows(named=True)}
    ka27 = by_pair[("sim:ddg75", "sim:ka27", "serious")]
    assert ka27["orbits"] == 7
    roll = by_pair[("sim:rc135", "sim:su27", "high-risk")]
    assert roll["min_slant_m"] == pytest.approx(15.24, abs=1.0)  # 50 ft
    passes_11_april = [
        r["passes"] for r in detected.iter_rows(named=True) if r["cpa_time"].day == 11
    ]
    assert sorted(passes_11_april) == [10, 10]  # "about 20 passes" by two jets


def test_no_encounter_involves_the_civil_traffic(
    scenario_file: Path, detected: pl.DataFrame
) -> None:
    table = load_tracks([scenario_file]).table
    civil = set(table.filter(pl.col("side") == CIVIL)["track"].unique())
    assert len(civil) > 100  # real ships and airliners around every event
    assert civil.isdisjoint(set(detected["a"]) | set(detected["b"]))


def test_civil_traffic_is_moved_to_the_baltic_before_each_event(scenario_file: Path) -> None:
    table = pl.read_parquet(scenario_file)
    civil = table.filter(pl.col("side") == CIVIL)
    assert civil["lat"].is_between(53.5, 58.0).all()
    assert civil["lon"].is_between(13.0, 22.5).all()
    ships = civil.filter(pl.col("source") == "scenario:baltic-2016/solent-ships")
    first_ship_time = ships["time"].min()
    assert isinstance(first_ship_time, datetime)
    # lead 900 s plus a jitter under 300 s before 13:00 UTC on 11 April
    assert datetime(2016, 4, 11, 12, 40, tzinfo=UTC) < first_ship_time
    assert first_ship_time <= datetime(2016, 4, 11, 12, 45, tzinfo=UTC)
    assert "mmsi:235070762" in set(ships["track"])  # a real Solent vessel, moved
    assert table.columns == list(CANONICAL_COLUMNS)


def test_the_build_is_deterministic_and_seeded() -> None:
    first = build_scenario(NAME)
    assert_frame_equal(first, build_scenario(NAME))
    other = build_scenario(NAME, {"seed": 7})
    military = pl.col("source") == "scenario:baltic-2016"
    assert_frame_equal(first.filter(military), other.filter(military))
    civil_first, civil_other = first.filter(~military), other.filter(~military)
    assert set(civil_first["source"]) == set(civil_other["source"])
    assert civil_first["time"].min() != civil_other["time"].min()  # the jitter moved the layers


def test_parameters_are_visible_and_overridable() -> None:
    text = show_params(NAME)
    assert "closest_m = 905.0" in text
    assert "# assumed: 350-500 kn" in text
    params = scenario_params(NAME, {"april_14": {"roll_radius_m": 100.0}})
    assert params["april_14"]["roll_radius_m"] == 100.0
    assert params["april_11"]["total_passes"] == 20
    with pytest.raises(InputError, match=r"unknown scenario parameter 'april_11\.bogus'"):
        scenario_params(NAME, {"april_11": {"bogus": 1}})
    with pytest.raises(InputError, match="no scenario named 'nowhere'"):
        build_scenario("nowhere")


def test_a_changed_assumption_changes_the_class() -> None:
    # the 12 April jets kept 200 m away: no low fast pass, only a close low pass
    table = build_scenario(NAME, {"april_12": {"closest_m": 200.0}})
    twelfth = table.filter(pl.col("time").dt.day() == 12)
    found = detect(twelfth).encounters.filter(pl.col("b").str.starts_with("sim:su24"))
    assert found["severity"].to_list() == ["serious", "serious"]


def test_cli_list_show_and_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(["scenario", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in listed] == [NAME]
    assert run(["scenario", "show", NAME]) == 0
    assert "[april_14]" in capsys.readouterr().out
    assert run(["scenario", "show", NAME, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert len(shown["expected_encounters"]) == 6
    overrides = tmp_path / "o.toml"
    overrides.write_text("[april_11]\nbogus = 1\n")
    out = tmp_path / "x.csv"
    assert run(["scenario", "build", NAME, "-o", str(out), "--params", str(overrides)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "unknown scenario parameter 'april_11.bogus'" in err


def test_shipped_parameters_are_the_documented_defaults() -> None:
    # the TOML file and the builders' keyword defaults (docs/april2016.md) say the same thing
    defaults = concat_tracks(
        *(case.frame for case in (donald_cook_11_april(), donald_cook_12_april(), rc135_14_april()))
    )
    military = build_scenario(NAME).filter(pl.col("source") == "scenario:baltic-2016")
    assert_frame_equal(military.drop("source"), defaults.drop("source"))
