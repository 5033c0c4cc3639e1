"""ReportData collected from a node: the registry's incidents, both accounts, the hotline timeline
with its delays, and the joint checkpoint over both logs; then ``parley report`` writes it."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from parley.cli.main import run
from parley.errors import InputError
from parley.hotline.checkpoint import NoteVerifier, open_note, parse_joint_checkpoint
from parley.hotline.joint import accept, countersign, propose
from parley.hotline.node import Node
from parley.incidents.model import IncidentMessage
from parley.incidents.registry import IncidentRegistry
from parley.incidents.report_collect import (
    collect_report_data,
    exchanges_from_messages,
    parse_report_time,
)


def carry(source: Node, target: Node, folder: Path) -> None:
    """The source's new entries to the target on a signed bundle."""
    bundle = folder / f"{len(list(folder.glob('*.bundle')))}-{source.config.party}.bundle"
    source.export_bundle(bundle)
    target.import_bundle(bundle)


OUR_TEXT = "A Su-24 passed our destroyer at very low altitude, without radio contact."
THEIR_TEXT = "Routine training flight over international waters, no danger was posed."


def _exchange_both_accounts(
    nodes: tuple[Node, Node],
    registries: tuple[IncidentRegistry, IncidentRegistry],
    records: list[dict[str, Any]],
    folder: Path,
) -> str:
    """nato opens the incidents of April 2016, notifies the first with its account; russia
    acknowledges and answers with its own class; both logs are carried both ways."""
    nato, russia = nodes
    nato_registry, russia_registry = registries
    opened = nato_registry.ingest(records, "officer").opened
    incident_id = opened[0]
    nato_registry.send_account(incident_id, "officer", "high-risk", OUR_TEXT)
    carry(nato, russia, folder)
    russia_registry.sync()
    theirs = russia_registry.list()[0]
    assert theirs.notification_msg_id is not None
    russia.ack(theirs.notification_msg_id)
    russia_registry.send_account(
        theirs.id, "officer", "routine", THEIR_TEXT, nature="routine-activity"
    )
    carry(russia, nato, folder)
    carry(nato, russia, folder)  # so nato holds russia's receipt for its whole log
    carry(russia, nato, folder)
    return incident_id


def test_collect_from_a_node_after_a_real_exchange(
    nodes: tuple[Node, Node],
    registries: tuple[IncidentRegistry, IncidentRegistry],
    april_detection: tuple[dict[str, Any], list[dict[str, Any]]],
    tmp_path: Path,
) -> None:
    nato, russia = nodes
    incident_id = _exchange_both_accounts(nodes, registries, april_detection[1], tmp_path)
    data = collect_report_data(nato.directory)
    assert data.own_party == "nato"
    assert data.peer_party == "russia"
    expected = registries[0].list()
    assert [s.id for s in data.incidents] == [i.id for i in expected]
    assert sum(data.counts_by_class().values()) == len(expected)
    assert data.counts_by_area() == {"Baltic Sea": len(expected)}
    section = next(s for s in data.incidents if s.id == incident_id)
    assert section.ours is not None
    assert section.ours.text == OUR_TEXT
    assert section.ours.classification == "high-risk"
    assert section.theirs is not None
    assert section.theirs.text == THEIR_TEXT
    assert section.theirs.classification == "routine"
    assert section.theirs.nature == "routine-activity"
    assert section.agree is False
    assert {line.side for line in section.tracks} == {"ours", "theirs"}
    assert all(len(line.points) > 10 for line in section.tracks)
    kinds = [(e.sender, e.kind) for e in section.exchanges]
    assert kinds[0] == ("nato", "incident notification")
    assert ("russia", "acknowledgement") in kinds
    assert ("russia", "clarification reply") in kinds
    assert section.exchanges[0].delay_from == "CPA"
    ack = next(e for e in section.exchanges if e.kind == "acknowledgement")
    assert ack.delay_from == "incident notification"
    assert ack.delay_s is not None
    assert ack.delay_s >= 0
    joint = data.joint
    assert joint is not None
    first, second = parse_joint_checkpoint(joint.body)
    sizes = {first.origin: first.size, second.origin: second.size}
    assert sizes == {nato.log_id: joint.own.size, russia.log_id: joint.peer.size}
    assert joint.own.size == len(nato.log().own)
    assert joint.peer.size == len(nato.log().peer)
    assert joint.receipt_size == joint.own.size
    # no joint checkpoint exchanged yet: the current heads, signed by nato alone
    signer = NoteVerifier.signer(nato.log_id, nato.key.public_key)
    assert open_note(joint.note, [signer]).signers == [nato.log_id]
    assert joint.signers == ("nato",)
    assert not joint.signed_by_both


def test_the_joint_checkpoint_both_parties_signed(
    nodes: tuple[Node, Node],
    registries: tuple[IncidentRegistry, IncidentRegistry],
    april_detection: tuple[dict[str, Any], list[dict[str, Any]]],
    tmp_path: Path,
) -> None:
    nato, russia = nodes
    _exchange_both_accounts(nodes, registries, april_detection[1], tmp_path)
    proposal = propose(nato)
    assert proposal is not None
    accept(nato, countersign(russia, proposal))
    joint = collect_report_data(nato.directory).joint
    assert joint is not None
    assert set(joint.signers) == {"nato", "russia"}
    assert joint.signed_by_both
    assert joint.entries_after == 0
    assert joint.own.size == len(nato.log().own)
    nato.send("free-text", {"language": "en", "text": "Report follows."})
    later = collect_report_data(nato.directory).joint
    assert later is not None
    assert later.signed_by_both
    assert later.entries_after == 1
    assert later.own.size == joint.own.size
    html = tmp_path / "report.html"
    assert run(["report", str(nato.directory), "-o", str(html)]) == 0
    text = html.read_text(encoding="utf-8")
    assert "Both parties signed this text." in text
    assert "1 entry was recorded in the two logs after this checkpoint" in text


def test_the_period_selects_by_closest_approach(
    nodes: tuple[Node, Node],
    registries: tuple[IncidentRegistry, IncidentRegistry],
    april_detection: tuple[dict[str, Any], list[dict[str, Any]]],
) -> None:
    nato, _ = nodes
    registries[0].ingest(april_detection[1], "officer")
    everything = collect_report_data(nato.directory)
    assert everything.incidents
    cpa = everything.incidents[0].cpa_time
    after = collect_report_data(nato.directory, since=cpa + timedelta(seconds=1))
    assert len(after.incidents) == len(everything.incidents) - 1
    with pytest.raises(InputError, match="is not before"):
        collect_report_data(nato.directory, since=cpa, until=cpa)


def test_report_command_writes_html_and_pdf(
    nodes: tuple[Node, Node],
    registries: tuple[IncidentRegistry, IncidentRegistry],
    april_detection: tuple[dict[str, Any], list[dict[str, Any]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    nato, _ = nodes
    _exchange_both_accounts(nodes, registries, april_detection[1], tmp_path)
    html = tmp_path / "report.html"
    assert run(["report", str(nato.directory), "-o", str(html), "--from", "2016-04-01"]) == 0
    assert f"wrote {html}" in capsys.readouterr().out
    text = html.read_text(encoding="utf-8")
    assert OUR_TEXT in text
    assert THEIR_TEXT in text
    pdf = tmp_path / "report.pdf"
    assert run(["report", str(nato.directory), "-o", str(pdf), "--to", "2016-04-30", "--json"]) == 0
    assert '"format": "pdf"' in capsys.readouterr().out
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert run(["report", str(nato.directory), "-o", str(tmp_path / "r.docx")]) == 1
    assert "a report is written as .html or .pdf" in capsys.readouterr().err
    assert run(["report", str(nato.directory), "-o", str(html), "--from", "April"]) == 1
    assert "--from 'April': expected YYYY-MM-DD" in capsys.readouterr().err


def test_parse_report_time() -> None:
    assert parse_report_time("2016-04-11", "--from") == datetime(2016, 4, 11, tzinfo=UTC)
    assert parse_report_time("2016-04-11", "--to", end_of_day=True) == datetime(
        2016, 4, 12, tzinfo=UTC
    )
    assert parse_report_time("2016-04-11T13:05:00+02:00", "--to") == datetime(
        2016, 4, 11, 11, 5, tzinfo=UTC
    )
    with pytest.raises(InputError, match="time zone"):
        parse_report_time("2016-04-11T13:05:00", "--from")


def _message(msg_id: str, minutes: int, role: str, key: str, reply: str | None) -> IncidentMessage:
    return IncidentMessage(
        "INC-1",
        msg_id,
        "sent" if msg_id.startswith("N") else "received",
        datetime(2016, 4, 11, 14, minutes, tzinfo=UTC),
        None,
        key,
        role,
        reply,
        {"answer": "Training flight.", "classification": "routine-activity"},
    )


def test_exchange_delays() -> None:
    cpa = datetime(2016, 4, 11, 13, 50, tzinfo=UTC)
    timeline = exchanges_from_messages(
        [
            _message("R-2", 40, "reply", "clarification-reply", "N-1"),
            _message("N-1", 5, "notification", "incident-notification", None),
            _message("R-1", 12, "acknowledgement", "acknowledgement", "N-1"),
        ],
        cpa,
        "nato",
        "russia",
    )
    assert [e.msg_id for e in timeline] == ["N-1", "R-1", "R-2"]
    assert [e.delay_s for e in timeline] == [15 * 60.0, 7 * 60.0, 35 * 60.0]
    assert [e.delay_from for e in timeline] == ["CPA", *["incident notification"] * 2]
    assert [e.sender for e in timeline] == ["nato", "russia", "russia"]
    assert timeline[2].summary == "Training flight. (classification: routine-activity)"
