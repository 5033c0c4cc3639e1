"""A node on disk: its directory, identity and pairing, durable atomic sends, acks and verify."""

import json
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Table, func, select, update

from parley.errors import ConfigError
from parley.hotline import records
from parley.hotline.entry import ZERO_HASH, parse_signed_entry, sign_entry
from parley.hotline.node import Node, NodeError, init_node, load_node
from parley.hotline.templates import TemplateError, catalogue_hash
from parley.store import schema

INCIDENT = {
    "incident_id": "I-2024-17",
    "time": "2024-05-01T12:00:00Z",
    "lat": "55.12",
    "lon": "20.3",
    "our_track": "mmsi:273318000",
    "your_track": "icao:4ca7b5",
    "closest_approach_m": "320",
    "altitude_m": "150",
    "severity": "serious",
    "summary": "Close pass at low altitude.",
}


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    nato, russia = init_node(tmp_path / "nato", "nato"), init_node(tmp_path / "russia", "russia")
    nato.trust(russia.identity_json(), "https://russia.example")
    russia.trust(nato.identity_json(), "https://nato.example")
    yield nato, russia
    nato.close()
    russia.close()


def _count(node: Node, table: Table) -> int:
    with node.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_init_writes_the_directory(tmp_path: Path) -> None:
    with init_node(tmp_path / "n", "nato") as node:
        identity = node.identity_json()
        first = node.log().own[0]
    assert sorted(p.name for p in (tmp_path / "n").iterdir()) == [
        "key.pem",
        "node.db",
        "node.toml",
        "tls-cert.pem",
        "tls-key.pem",
    ]
    assert stat.S_IMODE((tmp_path / "n" / "key.pem").stat().st_mode) == 0o600
    assert identity["party"] == "nato"
    assert identity["log_id"].startswith("parley/nato/")
    assert len(identity["fingerprint"].split()) == 16
    # seq 0 records the catalogue both sides render from
    assert (first.seq, first.type) == (0, "catalogue")
    assert first.fields["catalogue_sha256"] == catalogue_hash()
    with load_node(tmp_path / "n") as again:
        assert again.identity_json() == identity


def test_init_refuses_an_existing_node(tmp_path: Path) -> None:
    init_node(tmp_path / "n", "nato").close()
    with pytest.raises(ConfigError, match="already a node"):
        init_node(tmp_path / "n", "nato")


def test_load_refuses_a_directory_that_is_no_node(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"node\.toml: no such file"):
        load_node(tmp_path)


def test_trust_returns_the_fingerprint_and_is_kept(tmp_path: Path) -> None:
    nato, russia = init_node(tmp_path / "a", "nato"), init_node(tmp_path / "b", "russia")
    fingerprint = nato.trust(russia.identity_json(), "https://r")
    assert fingerprint == russia.identity().fingerprint
    nato.close()
    with load_node(tmp_path / "a") as again:
        assert again.peer.identity == russia.identity()
        assert again.peer.url == "https://r"
    toml = (tmp_path / "a" / "node.toml").read_text()
    assert fingerprint in toml
    russia.close()


def test_trust_refuses_another_key_or_our_own(tmp_path: Path) -> None:
    nato, russia = init_node(tmp_path / "a", "nato"), init_node(tmp_path / "b", "russia")
    impostor = init_node(tmp_path / "c", "russia")
    nato.trust(russia.identity_json(), "https://r")
    with pytest.raises(NodeError, match="already paired with russia"):
        nato.trust(impostor.identity_json(), "https://r")
    with pytest.raises(NodeError, match="own identity"):
        russia.trust(russia.identity_json(), "https://r")
    for node in (nato, russia, impostor):
        node.close()


def test_send_needs_a_peer(tmp_path: Path) -> None:
    with init_node(tmp_path / "a", "nato") as node, pytest.raises(NodeError, match="no peer"):
        node.send(6, {"sequence": "1"})


def test_send_records_entry_outbox_and_checkpoint(pair: tuple[Node, Node]) -> None:
    nato, _ = pair
    msg_id = nato.send("incident-notification", INCIDENT)
    view = nato.log().own[-1]
    assert (view.msg_id, view.seq, view.states) == (msg_id, 1, ("recorded",))
    assert view.fields == INCIDENT
    assert "INCIDENT NOTIFICATION No. I-2024-17" in view.text
    assert nato.outbox() == [0, 1]
    with nato.engine.connect() as connection:
        heads = records.checkpoints(connection, nato.log_id)
        raw = records.raw_entries(connection, nato.log_id)[1]
    assert [head.size for head in heads] == [1, 2]
    assert parse_signed_entry(raw).entry.msg_id == msg_id
    assert nato.verify().ok


def test_send_refuses_invalid_fields_and_unknown_replies(pair: tuple[Node, Node]) -> None:
    nato, _ = pair
    with pytest.raises(TemplateError, match="missing field 'summary'"):
        nato.send(1, {k: v for k, v in INCIDENT.items() if k != "summary"})
    with pytest.raises(TemplateError, match="'severity'"):
        nato.send(1, {**INCIDENT, "severity": "apocalyptic"})
    with pytest.raises(NodeError, match="no such message"):
        nato.send(9, {"language": "en", "text": "hi"}, reply_to="01HZZZZZZZZZZZZZZZZZZZZZZZ")
    with pytest.raises(NodeError, match="only for free text"):
        nato.send(6, {"sequence": "1"}, language="ru")
    with pytest.raises(NodeError, match="unknown template 'telegram'"):
        nato.send("telegram", {})
    assert nato.outbox() == [0]  # nothing of the refused sends


def test_free_text_carries_its_language(pair: tuple[Node, Node]) -> None:
    nato, _ = pair
    nato.send(9, {"text": "Здравствуйте"}, language="ru")
    view = nato.log().own[-1]
    assert (view.language, view.fields["language"]) == ("ru", "ru")


def test_a_send_is_atomic(pair: tuple[Node, Node], monkeypatch: pytest.MonkeyPatch) -> None:
    nato, _ = pair
    nato.send(6, {"sequence": "1"})
    tables = (schema.entries, schema.outbox, schema.checkpoints, schema.audit)
    before = [_count(nato, table) for table in tables]

    def disk_fails(*_: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(records, "insert_checkpoint", disk_fails)
    with pytest.raises(OSError, match="disk on fire"):
        nato.send(6, {"sequence": "2"})
    assert [_count(nato, table) for table in tables] == before
    monkeypatch.undo()
    nato.send(6, {"sequence": "3"})  # the next send takes the seq the failed one did not
    assert [v.seq for v in nato.log().own] == [0, 1, 2]
    assert nato.verify().ok


def test_ack_only_a_peer_message_and_only_once(pair: tuple[Node, Node], tmp_path: Path) -> None:
    nato, russia = pair
    msg_id = nato.send(6, {"sequence": "1"})
    nato.export_bundle(tmp_path / "b")
    russia.import_bundle(tmp_path / "b")
    with pytest.raises(NodeError, match="not a message in nato's log"):
        russia.ack("01HZZZZZZZZZZZZZZZZZZZZZZZ")
    ack_id = russia.ack(msg_id)
    assert russia.inbox()[0].states == ("received", "acknowledged")
    with pytest.raises(NodeError, match="already acknowledged"):
        russia.ack(msg_id)
    own_ack = russia.log().own[-1]
    assert (own_ack.msg_id, own_ack.type, own_ack.in_reply_to) == (ack_id, "ack", msg_id)
    with pytest.raises(NodeError, match="not a message in russia's log"):
        nato.ack(ack_id)  # nato does not hold it yet
    with pytest.raises(NodeError, match="not a message in nato's log"):
        russia.ack(ack_id)  # our own message
    russia.export_bundle(tmp_path / "c")
    nato.import_bundle(tmp_path / "c")
    with pytest.raises(NodeError, match="takes no acknowledgement"):
        nato.ack(ack_id)  # an ACK needs no ACK


def test_verify_catches_an_entry_altered_in_the_database(pair: tuple[Node, Node]) -> None:
    nato, _ = pair
    nato.send(1, INCIDENT)
    assert nato.verify().ok
    with nato.engine.begin() as connection:
        raw = records.raw_entries(connection, nato.log_id)[1]
        altered = raw.replace(b'"closest_approach_m":"320"', b'"closest_approach_m":"900"')
        connection.execute(
            update(schema.entries)
            .where(schema.entries.c.log_id == nato.log_id, schema.entries.c.seq == 1)
            .values(raw=altered)
        )
    report = nato.verify()
    assert not report.ok
    assert any("seq 1: bad signature" in problem for problem in report.problems)
    assert any("checkpoint 2" in problem for problem in report.problems)


def test_verify_catches_a_column_altered_beside_the_bytes(pair: tuple[Node, Node]) -> None:
    nato, _ = pair
    msg_id = nato.send(6, {"sequence": "1"})
    with nato.engine.begin() as connection:
        connection.execute(
            update(schema.entries).where(schema.entries.c.msg_id == msg_id).values(template=1)
        )
    assert any("stored columns differ" in p for p in nato.verify().problems)


def test_identity_json_round_trips(pair: tuple[Node, Node]) -> None:
    nato, russia = pair
    data = json.loads(json.dumps(nato.identity_json()))
    assert russia.peer.identity.to_json()["fingerprint"] == data["fingerprint"]


def test_verify_reports_a_catalogue_other_than_ours(tmp_path: Path) -> None:
    with init_node(tmp_path / "n", "nato") as node:
        other = sign_entry(
            node.key,
            seq=0,
            prev_hash=ZERO_HASH,
            msg_id="01HX0000000000000000000000",
            time="2024-05-01T12:00:00.000Z",
            type="catalogue",
            catalogue_version="0.9",
            fields={"catalogue_version": "0.9", "catalogue_sha256": "ab" * 32},
        )
        with node.engine.begin() as connection:
            connection.execute(
                update(schema.entries)
                .where(schema.entries.c.seq == 0)
                .values(raw=other.raw, entry_hash=other.entry_hash, msg_id=other.msg_id)
            )
        problems = node.verify().problems
    assert any("seq 0: catalogue 0.9" in p and "differs from ours" in p for p in problems)
    assert any("checkpoint 1" in p for p in problems)  # and the signed head no longer matches


def test_concurrent_senders_on_one_node_never_share_a_seq(tmp_path: Path) -> None:
    """Two processes' worth of writers (separate engines, threads): each send locks the log."""
    first = init_node(tmp_path / "a", "nato")
    peer = init_node(tmp_path / "b", "russia")
    first.trust(peer.identity_json(), "https://r")
    second = load_node(tmp_path / "a")

    def send_many(node: Node, start: int) -> None:
        for n in range(start, start + 15):
            node.send(6, {"sequence": str(n)})

    threads = [
        threading.Thread(target=send_many, args=(node, start))
        for node, start in ((first, 0), (second, 100))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    views = first.log().own
    assert [view.seq for view in views] == list(range(31))
    assert len({view.fields.get("sequence") for view in views[1:]}) == 30
    assert first.verify().ok, first.verify().problems
    for node in (first, second, peer):
        node.close()


def test_the_kept_merkle_tree_follows_writes_from_another_node_object(
    pair: tuple[Node, Node],
) -> None:
    """A node keeps the tree of its log between sends; entries written by another process are
    read and hashed too, and every checkpoint still matches a tree rebuilt from the raw bytes."""
    from parley.hotline.merkle import MerkleTree
    from parley.hotline.node import signed_part
    from parley.store.engine import read

    first, _ = pair
    first.send(6, {"sequence": "1"})
    with load_node(first.directory) as second:
        second.send(6, {"sequence": "2"})
    first.send(6, {"sequence": "3"})
    with read(first.engine) as connection:
        raws = records.raw_entries(connection, first.log_id)
        head = records.latest_checkpoint(connection, first.log_id)
    rebuilt = MerkleTree()
    for raw in raws:
        rebuilt.append_entry(signed_part(raw))
    assert rebuilt.size == 4  # the catalogue entry and three tests
    assert head is not None
    assert (head.size, head.root) == (rebuilt.size, rebuilt.root().hex())
    assert first.verify().ok, first.verify().problems
