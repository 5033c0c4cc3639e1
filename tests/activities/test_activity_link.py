"""The hotline glue: an activity as template 4 and back, amendments, unreadable notifications."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from activity_files import carry, exercise, write_json

from parley.activities.files import read_activity_file
from parley.activities.model import ActivityError
from parley.activities.thresholds import assess
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
        "notice": "planned",
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


def test_a_snap_exercise_stays_a_snap_exercise_at_the_peer(
    paired: tuple[Path, Path], tmp_path: Path
) -> None:
    """Notified when it starts, a snap exercise is on time on both desks: the notice travels."""
    nato_dir, russia_dir = paired
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    snap = exercise(
        id="snap-1",
        notice="snap",
        start=start.isoformat().replace("+00:00", "Z"),
        end=(start + timedelta(days=2)).isoformat().replace("+00:00", "Z"),
        declared={"troops": 30_000},
    )
    with load_node(nato_dir) as nato:
        path = write_json(tmp_path / "s.json", snap)
        add_activities(nato, read_activity_file(path, party="nato"))
        sent = notify_activity(nato, "snap-1")
        assert notification_fields(sent)["notice"] == "snap"
        with load_node(russia_dir) as russia:
            carry(nato, russia, tmp_path)
            sync_activities(russia)
            [held] = stored_activities(russia)
    assert (held.notice, held.origin) == ("snap", "peer")
    assessment = assess(held)
    assert assessment.notifiable_by == ("troops",)
    assert not assessment.late
