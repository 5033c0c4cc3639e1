"""The hotline glue: an activity as template 4 and back, amendments, unreadable notifications."""

from pathlib import Path

import pytest
from activity_files import carry, exercise, write_json

from parley.activities.files import read_activity_file
from parley.activities.model import ActivityError
from parley.hotline.node import load_node
from parley.incidents.activity_link import (
    add_activities,
    notification_fields,
    notify_activity,
    stored_activities,
    sync_activities,
)


def test_the_template_fields_of_an_activity(tmp_path: Path) -> None:
    path = write_json(tmp_path / "a.json", exercise(declared={"troops": 10_000, "ships": 0}))
    [activity] = read_activity_file(path, party="nato")
    assert notification_fields(activity) == {
        "activity_id": "baltops-27",
        "kind": "exercise",
        "area": "54.5N 14E, 54.5N 16.5E, 55.6N 16.5E, 55.6N 14E",
        "start": "2099-06-01T06:00:00Z",
        "end": "2099-06-14T18:00:00Z",
        "troops": "10000",
        "ships": "0",
    }


def test_an_area_too_detailed_for_the_hotline_is_refused(tmp_path: Path) -> None:
    ring = [[14 + i / 100, 54 + (i % 2) / 100] for i in range(60)] + [[14, 56]]
    area = {"type": "Polygon", "coordinates": [ring]}
    [activity] = read_activity_file(write_json(tmp_path / "a.json", exercise(area=area)), party="x")
    with pytest.raises(ActivityError, match="at most 500: give the polygon fewer vertices"):
        notification_fields(activity)


def test_amendments_and_unreadable_notifications(paired: tuple[Path, Path], tmp_path: Path) -> None:
    nato_dir, russia_dir = paired
    with load_node(nato_dir) as nato:
        add_activities(
            nato, read_activity_file(write_json(tmp_path / "a.json", exercise()), party="nato")
        )
        first = notify_activity(nato, "baltops-27")
        with pytest.raises(ActivityError, match="baltops-27 was already notified at"):
            notify_activity(nato, "baltops-27")
        # an amendment (more troops), and a notification another implementation wrote in prose
        amended = {**notification_fields(first), "troops": "12000"}
        amendment_id = nato.send(4, amended)
        prose = {**amended, "activity_id": "prose", "area": "east of Bornholm"}
        prose_id = nato.send(4, prose)
        with load_node(russia_dir) as russia:
            carry(nato, russia, tmp_path)
            summary = sync_activities(russia)
            assert summary.stored == ("baltops-27",)
            assert list(summary.unreadable) == [prose_id]
            assert "'east of Bornholm' is not a vertex" in summary.unreadable[prose_id]
            [held] = stored_activities(russia)
            assert sync_activities(russia).stored == ()  # the log is read again: nothing new
    assert (held.origin, held.party, held.declared.troops) == ("peer", "nato", 12_000)
    assert held.msg_id == amendment_id
    assert held.notified_at == first.notified_at  # an amendment does not make it late
