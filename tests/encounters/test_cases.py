"""`parley detect FILE --json` on the built encounter cases of tests/data/encounters.

Each case's expectations come from an independent brute-force reference (encounter_reference.py)
that shares no code with the detector: the right pairs and only them, the right severity and
reasons, minima within the case's tolerance, passes and orbits within one, malformed rows counted.
"""

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from parley.cli.main import run

CASES = Path(__file__).resolve().parents[1] / "data" / "encounters"
NAMES = sorted(p.name.removesuffix(".expected.json") for p in CASES.glob("*.expected.json"))


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _detect(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert run(["detect", "--json", str(path)]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def _close(actual: float, expected: float, tolerance: dict[str, float], kind: str) -> bool:
    absolute = tolerance[f"{kind}_m" if kind == "distance" else f"{kind}_mps"]
    relative = tolerance[f"{kind}_relative"]
    return abs(actual - expected) <= max(absolute, relative * abs(expected))


def test_there_are_cases() -> None:
    assert len(NAMES) >= 10


@pytest.mark.parametrize("name", NAMES)
def test_case(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    expected = json.loads((CASES / f"{name}.expected.json").read_text())
    document = _detect(CASES / expected["file"], capsys)
    assert document["rejected_rows"] == len(expected["rejected"])
    tolerance = expected["tolerance"]
    found = sorted(document["encounters"], key=lambda e: (e["a"], e["b"], e["start"]))
    wanted = sorted(expected["encounters"], key=lambda e: (*e["pair"], e["episode_start"]))
    assert [(e["a"], e["b"]) for e in found] == [tuple(e["pair"]) for e in wanted]
    for got, want in zip(found, wanted, strict=True):
        where = f"{name}: {got['a']}–{got['b']}"
        assert got["kind"] == want["kind"], where
        assert got["severity"] == want["severity"], where
        assert got["reasons"][0] == want["rules"][0], where
        assert set(want["rules"]) <= set(got["reasons"]), where
        assert ("transponder-off" in got["reasons"]) == want["transponder_off"], where
        assert got["civil_safety"] == want["civil_safety"], where
        for field in ("min_slant_m", "min_horizontal_m", "vertical_m"):
            assert _close(got[field], want[field], tolerance, "distance"), (where, field)
        assert _close(got["max_closure_mps"], want["max_closure_mps"], tolerance, "closure"), where
        start_shift = abs((_time(got["start"]) - _time(want["episode_start"])).total_seconds())
        assert start_shift <= tolerance["time_s"], where
        if want["cpa_time"] is not None:  # null: the minimum is held (a formation)
            cpa_shift = abs((_time(got["cpa_time"]) - _time(want["cpa_time"])).total_seconds())
            assert cpa_shift <= tolerance["time_s"], where
        assert abs(got["passes"] - want["passes"]) <= 1, where
        if want["orbits"] is not None:
            assert abs(got["orbits"] - want["orbits"]) <= 1, where
