"""The registry on one node: incidents opened from the April 2016 encounters with the right classes,
merged within the window, opened by hand, closed and reopened with their history, accounts kept
side by side, evidence kept for the map."""

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from parley.errors import ConfigError, InputError
from parley.hotline.node import Node
from parley.incidents.checks import IncidentError, UnknownIncidentError
from parley.incidents.evidence import closest_approach_point, notification_fields
from parley.incidents.policy import IncidentPolicy, load_incident_policy
from parley.incidents.registry import IncidentRegistry, detect_records

Detection = tuple[dict[str, Any], list[dict[str, Any]]]
DDG, KA27, SU24_1, SU24_2 = "sim:ddg75", "sim:ka27", "sim:su24-1", "sim:su24-2"
RC135, SU27 = "sim:rc135", "sim:su27"


def _classes(registry: IncidentRegistry) -> list[tuple[str, str, str, str]]:
    return sorted(
        (i.our_track, i.their_track, i.severity, i.cpa_time.date().isoformat())
        for i in registry.list()
    )


def test_the_april_2016_encounters_open_six_incidents_with_their_classes(
    nodes: tuple[Node, Node], april_detection: Detection
) -> None:
    registry = IncidentRegistry(nodes[0])
    summary = registry.ingest(april_detection[1], "ivanova")
    assert len(summary.opened) == 6
    assert summary.merged == []
    assert summary.skipped == 0
    # nato's node: our units are the destroyer and the RC-135
    assert _classes(registry) == [
        (DDG, KA27, "serious", "2016-04-12"),
        (DDG, SU24_1, "high-risk", "2016-04-12"),
        (DDG, SU24_1, "serious", "2016-04-11"),
        (DDG, SU24_2, "high-risk", "2016-04-12"),
        (DDG, SU24_2, "serious", "2016-04-11"),
        (RC135, SU27, "high-risk", "2016-04-14"),
    ]
    assert {i.state for i in registry.list()} == {"detected"}
    roll = registry.list(severity="high-risk")[-1]
    record = next(r for r in april_detection[1] if r["b"] == SU27)
    assert (roll.kind, roll.min_slant_m) == ("air-air", record["min_slant_m"])
    assert roll.min_slant_m is not None
    assert roll.min_slant_m < 50
    assert roll.opened_by == "ivanova"
    assert registry.history(roll.id)[0].action == "opened"
    assert registry.list(state="notified") == []


def test_ingesting_the_same_output_twice_changes_nothing(
    nodes: tuple[Node, Node], april_detection: Detection
) -> None:
    registry = IncidentRegistry(nodes[0])
    registry.ingest(april_detection[1], "ivanova")
    again = registry.ingest(april_detection[1], "ivanova")
    assert again.opened == []
    assert again.merged == []
    assert again.skipped == 6
    assert len(registry.list()) == 6


def test_a_pair_seen_again_within_the_window_is_one_incident(
    nodes: tuple[Node, Node], april_detection: Detection
) -> None:
    # 11 and 12 April are about 26 h apart: one incident per Su-24 with a 2-day window
    registry = IncidentRegistry(nodes[0], IncidentPolicy(merge_window_s=2 * 86400))
    summary = registry.ingest(april_detection[1], "ivanova")
    assert len(summary.opened) == 4
    assert len(summary.merged) == 2
    su24 = [i for i in registry.list() if i.their_track == SU24_1]
    assert len(su24) == 1
    incident = su24[0]
    assert incident.severity == "high-risk"  # the most severe of its encounters
    assert len(incident.encounter_ids) == 2
    assert incident.start.date().isoformat() == "2016-04-11"
    assert incident.end.date().isoformat() == "2016-04-12"
    assert incident.cpa_time.date().isoformat() == "2016-04-12"  # the deciding encounter
    assert [h.action for h in registry.history(incident.id)] == ["opened", "merged"]


def test_only_the_policy_classes_open_incidents(
    nodes: tuple[Node, Node], april_detection: Detection
) -> None:
    registry = IncidentRegistry(nodes[0], IncidentPolicy(auto_classes=("high-risk",)))
    summary = registry.ingest(april_detection[1], "ivanova")
    assert len(summary.opened) == 3
    assert summary.skipped == 3
    assert {i.severity for i in registry.list()} == {"high-risk"}


def test_the_policy_file(tmp_path: Path) -> None:
    assert load_incident_policy(tmp_path) == IncidentPolicy(("serious", "high-risk"), 21600.0)
    (tmp_path / "incidents.toml").write_text('auto_classes = ["high-risk"]\nmerge_window_s = 60\n')
    assert load_incident_policy(tmp_path) == IncidentPolicy(("high-risk",), 60.0)
    (tmp_path / "incidents.toml").write_text('auto_classes = ["dangerous"]\n')
    with pytest.raises(ConfigError, match="auto_classes must be a list of routine"):
        load_incident_policy(tmp_path)
    (tmp_path / "incidents.toml").write_text("window = 3\n")
    with pytest.raises(ConfigError, match="unknown setting 'window'"):
        load_incident_policy(tmp_path)


def test_evidence_keeps_both_tracks_over_the_episode(
    nodes: tuple[Node, Node], april_detection: Detection
) -> None:
    registry = IncidentRegistry(nodes[0])
    registry.ingest(april_detection[1], "ivanova")
    roll = next(i for i in registry.list() if i.their_track == SU27)
    evidence = registry.evidence(roll.id)
    assert [r["id"] for r in evidence.encounters] == list(roll.encounter_ids)
    record = evidence.encounters[0]
    assert record["reasons"] == ["overflight", "transponder-off"]
    assert "evidence" not in record  # positions are kept apart, for the map
    assert set(evidence.positions) == {RC135, SU27}
    su27 = evidence.positions[SU27]
    assert len(su27) > 100
    assert su27[0].time <= roll.start < roll.cpa_time < roll.end <= su27[-1].time
    assert all(p.time.tzinfo is not None for p in su27)
    content = json.dumps(evidence.content_json(), sort_keys=True, separators=(",", ":"))
    assert evidence.sha256 == hashlib.sha256(content.encode()).hexdigest()
    assert registry.evidence(roll.id).sha256 == evidence.sha256  # stable
    # the incident's position is the closest approach, north of Kaliningrad
    assert roll.lat is not None
    assert roll.lon is not None
    assert 55.0 < roll.lat < 56.5
    assert 19.5 < roll.lon < 21.0
    point = closest_approach_point(evidence.positions, RC135, SU27, roll.cpa_time)
    assert point is not None
    assert point[2] is not None
    assert point[2] > 9000


def test_the_notification_is_filled_from_the_encounter(
    nodes: tuple[Node, Node], april_detection: Detection
) -> None:
    registry = IncidentRegistry(nodes[0])
    registry.ingest(april_detection[1], "ivanova")
    pass_ = next(i for i in registry.list(severity="high-risk") if i.their_track == SU24_1)
    fields = notification_fields(pass_, registry.evidence(pass_.id), "high-risk", "low pass")
    record = registry.evidence(pass_.id).encounters[0]
    assert fields["incident_id"] == pass_.id
    assert fields["time"] == record["cpa_time"]
    assert (fields["our_track"], fields["your_track"]) == (DDG, SU24_1)
    assert fields["closest_approach_m"] == f"{record['min_slant_m']:.1f}"
    assert fields["vertical_separation_m"] == f"{record['vertical_m']:.1f}"
    assert fields["closing_speed_mps"] == f"{record['max_closure_mps']:.1f}"
    assert fields["severity"] == "high-risk"
    assert 0 < float(fields["altitude_m"]) < 150  # the Su-24, below 150 m
    assert fields["evidence_sha256"] == registry.evidence(pass_.id).sha256
    assert record["id"] in fields["evidence_sources"]


def test_opened_by_hand_closed_and_reopened_with_history(nodes: tuple[Node, Node]) -> None:
    registry = IncidentRegistry(nodes[0])
    moment = datetime(2016, 4, 14, 12, 2, tzinfo=UTC)
    incident = registry.open_by_hand(
        our_track="sim:rc135",
        their_track="sim:su27",
        time=moment,
        severity="high-risk",
        summary="barrel roll over the RC-135",
        actor="smith",
        lat=55.6,
        lon=20.4,
    )
    assert (incident.origin, incident.state, incident.cpa_time) == ("hand", "detected", moment)
    assert registry.close_incident(incident.id, "jones", "answered").state == "closed"
    with pytest.raises(IncidentError, match="already closed"):
        registry.close_incident(incident.id, "jones")
    assert registry.reopen_incident(incident.id, "smith", "new facts").state == "detected"
    with pytest.raises(IncidentError, match="not closed"):
        registry.reopen_incident(incident.id, "smith")
    history = registry.history(incident.id)
    assert [(h.actor, h.action, h.from_state, h.to_state) for h in history] == [
        ("smith", "opened", None, "detected"),
        ("jones", "closed", "detected", "closed"),
        ("smith", "reopened", "closed", "detected"),
    ]
    assert history[1].detail == "answered"
    with pytest.raises(IncidentError, match="class 'severe'"):
        registry.open_by_hand(
            our_track="a", their_track="b", time=moment, severity="severe", summary="", actor="x"
        )


def test_accounts_are_kept_side_by_side_and_need_not_agree(
    nodes: tuple[Node, Node], april_detection: Detection
) -> None:
    registry = IncidentRegistry(nodes[0])
    registry.ingest(april_detection[1], "ivanova")
    incident = registry.list()[0]
    assert registry.side_by_side(incident.id).agree is None
    registry.record_account(incident.id, "ivanova", "serious", "passes within 1,000 yd")
    registry.record_account(
        incident.id, "ivanova", "routine", "training flight", "routine-activity", side="theirs"
    )
    both = registry.side_by_side(incident.id)
    assert both.ours is not None
    assert both.theirs is not None
    assert (both.ours.party, both.ours.classification) == ("nato", "serious")
    assert (both.theirs.party, both.theirs.classification) == ("russia", "routine")
    assert both.theirs.nature == "routine-activity"
    assert both.agree is False
    registry.record_account(incident.id, "ivanova", "routine", "on reflection, routine")
    assert registry.side_by_side(incident.id).agree is True
    assert len(registry.accounts(incident.id)) == 3  # earlier accounts are kept
    with pytest.raises(IncidentError, match="nature 'hostile'"):
        registry.record_account(incident.id, "x", "routine", "text", "hostile")
    with pytest.raises(IncidentError, match="needs a text"):
        registry.record_account(incident.id, "x", "routine", "  ")


def test_unknown_incidents_and_bad_detect_output(nodes: tuple[Node, Node]) -> None:
    registry = IncidentRegistry(nodes[0])
    with pytest.raises(UnknownIncidentError, match="no incident 'inc-nope'"):
        registry.get("inc-nope")
    with pytest.raises(InputError, match="no 'encounters' list"):
        detect_records({"tracks": []}, "x.json")
    with pytest.raises(InputError, match="contract version 2"):
        detect_records({"encounters": [], "stats": {"contract_version": 2}}, "x.json")
    with pytest.raises(InputError, match="encounter 1 lacks cpa_time"):
        detect_records(
            {
                "encounters": [
                    {
                        "id": "e",
                        "a": "x",
                        "b": "y",
                        "sides": [],
                        "kind": "air-air",
                        "start": "",
                        "end": "",
                        "severity": "serious",
                    }
                ]
            },
            "x.json",
        )


def test_opening_by_hand_from_encounters_of_several_pairs_is_refused(
    nodes: tuple[Node, Node], april_detection: Detection
) -> None:
    registry = IncidentRegistry(nodes[0])
    records = detect_records(april_detection[0])
    with pytest.raises(IncidentError, match="several pairs"):
        registry.open_from_encounters(records, "ivanova")
    roll = [r for r in records if r["b"] == SU27]
    incident = registry.open_from_encounters(roll, "ivanova", "the barrel roll")
    assert (incident.origin, incident.summary, incident.severity) == (
        "hand",
        "the barrel roll",
        "high-risk",
    )
    # --evidence keeps ±60 s around the closest approach: enough for the position
    assert incident.lat is not None
    with pytest.raises(IncidentError, match="already in incident"):
        registry.open_from_encounters(roll, "ivanova")
