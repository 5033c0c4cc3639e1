"""An encounter inside a notified activity's area and time window gets ``notified-activity``
(the packaged April 2016 sample: two encounters on the 11th, three on the 12th, one on the 14th
east of Gotland)."""

import json
from pathlib import Path

import polars as pl
import pytest
from activity_files import write_json

from parley.activities.files import read_activity_file
from parley.cli.main import run
from parley.encounters.detector import detect
from parley.encounters.policy import Policy
from parley.hotline.node import load_node
from parley.incidents.activity_link import (
    NOTIFIED_ACTIVITY,
    add_activities,
    mark_notified_activities,
    notify_activity,
)
from parley.tracks.load import load_tracks
from parley.tracks.sides import load_sides

SAMPLE = Path(__file__).resolve().parents[2] / "src/parley/data/samples/april2016.csv"
#: 55–56° N, 18–20° E, on 11 April 2016 only.
APRIL_11 = {
    "id": "russia-flights-11",
    "kind": "flight",
    "notice": "snap",
    "start": "2016-04-11T00:00:00Z",
    "end": "2016-04-11T23:59:59Z",
    "area": {
        "type": "Polygon",
        "coordinates": [[[18, 55], [20, 55], [20, 56], [18, 56], [18, 55]]],
    },
    "declared": {"aircraft_sorties": 12},
}


def _reasons(encounters: pl.DataFrame) -> dict[str, list[str]]:
    return dict(zip(encounters["id"], encounters["reasons"].to_list(), strict=True))


def _marked(reasons_by_id: dict[str, list[str]]) -> list[str]:
    return sorted(i for i, reasons in reasons_by_id.items() if NOTIFIED_ACTIVITY in reasons)


def test_encounters_inside_the_area_and_window_get_the_reason(tmp_path: Path) -> None:
    tracks = load_tracks([SAMPLE], sides=load_sides(None))
    detection = detect(tracks.table, Policy())
    before = _reasons(detection.encounters)
    assert len(before) == 6
    assert _marked(before) == []
    activities = read_activity_file(write_json(tmp_path / "a.json", APRIL_11), party="russia")
    marked = mark_notified_activities(detection, tracks.table, activities)
    after = _reasons(marked.encounters)
    on_the_11th = sorted(
        row["id"] for row in marked.encounters.iter_rows(named=True) if row["cpa_time"].day == 11
    )
    assert len(on_the_11th) == 2
    assert _marked(after) == on_the_11th
    for encounter_id, reasons in after.items():
        # the reason is added last; the rules' own reasons stay as they were
        assert reasons[: len(before[encounter_id])] == before[encounter_id]
    assert mark_notified_activities(marked, tracks.table, activities).encounters.equals(
        marked.encounters
    )


@pytest.mark.slow
def test_detect_with_a_node_uses_its_notified_activities(
    paired: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only notified activities count: added but not notified, nothing is marked."""
    nato = paired[0]
    path = write_json(
        tmp_path / "a.json",
        {**APRIL_11, "start": "2016-04-12T00:00:00Z", "end": "2016-04-12T23:59:59Z"},
    )
    with load_node(nato) as node:
        add_activities(node, read_activity_file(path, party="nato"))

    def reasons() -> dict[str, list[str]]:
        args = ["detect", str(SAMPLE), "--activities", str(nato), "--json", "--quiet"]
        assert run(args) == 0, capsys.readouterr().err
        document = json.loads(capsys.readouterr().out)
        return {e["id"]: e["reasons"] for e in document["encounters"]}

    assert _marked(reasons()) == []
    with load_node(nato) as node:
        notify_activity(node, "russia-flights-11")
    marked = reasons()
    assert len(_marked(marked)) == 3  # the three of the 12th
    assert run(["detect", str(SAMPLE), "--activities", str(tmp_path / "none.json")]) == 1
    assert "none.json: no such activity file or node directory" in capsys.readouterr().err
