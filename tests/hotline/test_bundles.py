"""Signed bundles: two nodes exchange their logs on removable media while the link is cut."""

import base64
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from parley.hotline import records
from parley.hotline.bundle import BundleError, EquivocationError, _manifest_body
from parley.hotline.canonical import encode_canonical
from parley.hotline.checkpoint import Checkpoint, cosign_note, sign_note
from parley.hotline.node import Node, init_node, load_node
from parley.store import schema


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    nato, russia = init_node(tmp_path / "nato", "nato"), init_node(tmp_path / "russia", "russia")
    nato.trust(russia.identity_json(), "https://russia.example")
    russia.trust(nato.identity_json(), "https://nato.example")
    yield nato, russia
    nato.close()
    russia.close()


def _carry(sender: Node, receiver: Node, path: Path, after: int | None = None) -> None:
    sender.export_bundle(path, after)
    receiver.import_bundle(path)


def _raws(node: Node, log_id: str) -> list[bytes]:
    with node.engine.connect() as connection:
        return records.raw_entries(connection, log_id)


def _row_counts(node: Node) -> list[int]:
    tables = (schema.entries, schema.checkpoints, schema.cosignatures, schema.equivocations)
    with node.engine.connect() as connection:
        return [
            int(connection.execute(select(func.count()).select_from(t)).scalar_one())
            for t in tables
        ]


def test_delivered_and_acknowledged_at_the_sender(pair: tuple[Node, Node], tmp_path: Path) -> None:
    nato, russia = pair
    msg_id = nato.send(6, {"sequence": "1"})
    _carry(nato, russia, tmp_path / "1.bundle")
    (received,) = russia.inbox()
    assert (received.msg_id, received.fields, received.states) == (
        msg_id,
        {"sequence": "1"},
        ("received",),
    )
    assert nato.log().own[-1].states == ("recorded",)  # nato does not know yet
    russia.ack(msg_id)
    _carry(russia, nato, tmp_path / "2.bundle")  # carries russia's receipt for nato's log
    sent = nato.log().own[-1]
    assert sent.msg_id == msg_id
    assert sent.states == ("recorded", "delivered", "acknowledged")
    assert nato.outbox() == []
    reply = russia.send(
        3,
        {"answer": "A routine flight.", "classification": "routine-activity"},
        reply_to=msg_id,
    )
    _carry(russia, nato, tmp_path / "3.bundle")
    assert nato.log().own[-1].state == "answered"
    assert nato.inbox()[-1].msg_id == reply


def test_fifty_messages_in_one_bundle_arrive_once_and_logs_converge(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    nato, russia = pair
    _carry(nato, russia, tmp_path / "0.bundle")
    _carry(russia, nato, tmp_path / "1.bundle")
    sent = [nato.send(6, {"sequence": str(n)}) for n in range(50)]
    summary = nato.export_bundle(tmp_path / "cut.bundle")
    assert (summary.first_seq, summary.count) == (1, 50)  # everything after the receipt
    assert russia.import_bundle(tmp_path / "cut.bundle").accepted == 50
    assert [view.msg_id for view in russia.inbox()] == sent
    again = russia.import_bundle(tmp_path / "cut.bundle")  # the same bundle carried twice
    assert (again.accepted, again.duplicates) == (0, 50)
    assert [view.msg_id for view in russia.inbox()] == sent
    _carry(russia, nato, tmp_path / "back.bundle")
    _carry(nato, russia, tmp_path / "last.bundle")  # russia learns its own log was delivered
    for log_id in (nato.log_id, russia.log_id):
        assert _raws(nato, log_id) == _raws(russia, log_id)  # byte for byte, seq by seq
    assert len(_raws(nato, nato.log_id)) == 51
    assert all(view.state == "delivered" for view in nato.log().own)
    assert nato.outbox() == []
    assert russia.outbox() == []
    assert nato.verify().ok, nato.verify().problems
    assert russia.verify().ok, russia.verify().problems


def test_a_replayed_old_bundle_is_harmless(pair: tuple[Node, Node], tmp_path: Path) -> None:
    nato, russia = pair
    nato.send(6, {"sequence": "1"})
    _carry(nato, russia, tmp_path / "old.bundle")
    nato.send(6, {"sequence": "2"})
    _carry(nato, russia, tmp_path / "new.bundle", after=-1)
    before = _row_counts(russia)
    replay = russia.import_bundle(tmp_path / "old.bundle")
    assert (replay.accepted, replay.duplicates, replay.peer_size) == (0, 2, 3)
    assert _row_counts(russia) == before
    assert russia.verify().ok


def _flip(path: Path, offset: int) -> None:
    """Change one byte: a letter or digit to another (base64 stays base64), else flip a bit."""
    data = bytearray(path.read_bytes())
    if chr(data[offset]).isalnum():
        data[offset] = ord("A") if data[offset] != ord("A") else ord("B")
    else:
        data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_tampered_bundle_is_refused_and_nothing_stored(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    nato, russia = pair
    nato.send(6, {"sequence": "1"})
    path = tmp_path / "b"
    nato.export_bundle(path)
    pristine = path.read_bytes()
    before = _row_counts(russia)
    document = json.loads(pristine)
    payload_at = pristine.index(document["payload"].encode()) + 200
    while not chr(pristine[payload_at]).isalnum():  # not '+' or '/': stay valid base64
        payload_at += 1
    manifest_at = pristine.index(b"entries 0 2")
    for offset, reason in (
        (payload_at, "payload does not match its signed SHA-256"),
        (manifest_at + 8, "bundle signature"),
        (0, "not a hotline bundle"),
    ):
        path.write_bytes(pristine)
        _flip(path, offset)
        with pytest.raises(BundleError, match=reason):
            russia.import_bundle(path)
        assert _row_counts(russia) == before
    assert russia.inbox() == []


def test_a_bundle_signed_by_another_key_is_refused(pair: tuple[Node, Node], tmp_path: Path) -> None:
    _nato, russia = pair
    impostor = init_node(tmp_path / "impostor", "nato")
    impostor.trust(russia.identity_json(), "https://russia.example")
    impostor.send(6, {"sequence": "1"})
    impostor.export_bundle(tmp_path / "fake.bundle")
    with pytest.raises(BundleError, match="bundle signature: no signature from a trusted key"):
        russia.import_bundle(tmp_path / "fake.bundle")
    assert russia.inbox() == []
    impostor.close()


def _re_sign(path: Path, signer: Node, change: Callable[[dict[str, Any]], None]) -> None:
    """Change a bundle's payload and sign it again with the exporter's own key."""
    document = json.loads(path.read_text())
    payload = json.loads(base64.b64decode(document["payload"]))
    change(payload)
    payload_bytes = encode_canonical(payload)
    document["payload"] = base64.b64encode(payload_bytes).decode()
    size = len(payload["entries"])
    body = _manifest_body(signer.log_id, 0, size, size, payload_bytes)
    document["manifest"] = sign_note(body, signer.log_id, signer.key)
    path.write_text(json.dumps(document))


def test_entries_re_signed_under_a_valid_manifest_are_checked_one_by_one(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    """Nato's key signs the bundle, but an entry inside was altered: the entry is refused."""
    nato, russia = pair
    nato.send(6, {"sequence": "1"})
    nato.export_bundle(tmp_path / "b")

    def alter_entry(payload: dict[str, Any]) -> None:
        entry = base64.b64decode(payload["entries"][1])
        entry = entry.replace(b'"sequence":"1"', b'"sequence":"7"')
        payload["entries"][1] = base64.b64encode(entry).decode()

    _re_sign(tmp_path / "b", nato, alter_entry)
    with pytest.raises(BundleError, match="entry #1: seq 1: bad signature"):
        russia.import_bundle(tmp_path / "b")
    assert russia.inbox() == []


def test_a_checkpoint_over_other_entries_is_refused(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    nato, russia = pair
    nato.send(6, {"sequence": "1"})
    nato.export_bundle(tmp_path / "b")
    wrong = Checkpoint(nato.log_id, 2, bytes(32)).body()

    def forge_checkpoint(payload: dict[str, Any]) -> None:
        payload["checkpoint"] = sign_note(wrong, nato.log_id, nato.key)

    _re_sign(tmp_path / "b", nato, forge_checkpoint)
    before = _row_counts(russia)
    with pytest.raises(BundleError, match="checkpoint root is not the root of the entries"):
        russia.import_bundle(tmp_path / "b")
    assert _row_counts(russia) == before


def test_a_receipt_for_a_checkpoint_we_never_had_is_refused(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    nato, russia = pair
    _carry(nato, russia, tmp_path / "a")
    russia.export_bundle(tmp_path / "b")
    forged = cosign_note(Checkpoint(nato.log_id, 1, bytes(32)).body(), russia.log_id, russia.key, 0)

    def forge_receipt(payload: dict[str, Any]) -> None:
        payload["receipt"] = forged

    _re_sign(tmp_path / "b", russia, forge_receipt)
    with pytest.raises(BundleError, match="receipt: it cosigns a checkpoint our log never had"):
        nato.import_bundle(tmp_path / "b")
    assert nato.outbox() == [0]


def test_a_gap_is_refused_with_what_to_ask_for(pair: tuple[Node, Node], tmp_path: Path) -> None:
    nato, russia = pair
    for n in range(3):
        nato.send(6, {"sequence": str(n)})
    nato.export_bundle(tmp_path / "b", after_seq=1)
    with pytest.raises(BundleError, match="gap: expected seq 0"):
        russia.import_bundle(tmp_path / "b")
    with pytest.raises(BundleError, match="--after 9: our log holds seqs 0 to 3"):
        nato.export_bundle(tmp_path / "c", after_seq=9)


def test_equivocation_is_kept_as_evidence_and_freezes_the_log(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    nato, russia = pair
    nato.send(6, {"sequence": "1"})
    _carry(nato, russia, tmp_path / "0.bundle")
    nato.close()
    # nato's node is restored from a backup and writes a different seq 2: a forked log
    shutil.copytree(tmp_path / "nato", tmp_path / "nato-restored")
    with load_node(tmp_path / "nato") as original:
        original.send(6, {"sequence": "2"})
        _carry(original, russia, tmp_path / "1.bundle")
    with load_node(tmp_path / "nato-restored") as restored:
        restored.send(6, {"sequence": "3"})
        restored.export_bundle(tmp_path / "fork.bundle", after_seq=1)
    with pytest.raises(EquivocationError, match="two different entries signed with seq 2"):
        russia.import_bundle(tmp_path / "fork.bundle")
    with russia.engine.connect() as connection:
        (evidence,) = records.equivocations(connection)
        alarms = [row for row in records.audit_rows(connection) if "ALARM" in row[1]]
        assert records.log_frozen(connection, nato.log_id)
    assert evidence.verify(nato.identity())
    assert evidence.held == _raws(russia, nato.log_id)[2]  # the held entry stays
    assert len(alarms) == 1
    assert [view.fields["sequence"] for view in russia.inbox()] == ["1", "2"]
    with pytest.raises(BundleError, match="frozen"):
        russia.import_bundle(tmp_path / "1.bundle")
    report = russia.verify()
    assert [p for p in report.problems if "equivocation held" in p]
