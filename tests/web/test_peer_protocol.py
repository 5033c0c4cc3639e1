"""The peer protocol in process: a node's app refuses every bad request with a reason, stores
nothing of it, and answers a good push with its cosignature (the delivery receipt)."""

import base64
import random
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select

from parley.cli.main import run
from parley.hotline import records
from parley.hotline.bundle import accept_receipt, import_bundle_bytes
from parley.hotline.keys import PartyKey
from parley.hotline.msgid import utc_now
from parley.hotline.node import Node, init_node, load_node
from parley.hotline.peer_auth import SIGNATURE_HEADER, sign_request
from parley.hotline.peer_sync import RecoveryError, push_body, recover_own_log
from parley.hotline.replication import ReplicationSettings, backoff_delay
from parley.hotline.resync import ResyncingError
from parley.store import schema
from parley.web import create_app
from parley.web.peer import MAX_BODY_BYTES


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[Node, Path]]:
    """nato's node (opened) and russia's node directory, paired."""
    nato, russia = init_node(tmp_path / "nato", "nato"), init_node(tmp_path / "russia", "russia")
    nato.trust(russia.identity_json(), "http://russia.invalid")
    russia.trust(nato.identity_json(), "http://nato.invalid")
    russia.close()
    yield nato, tmp_path / "russia"
    nato.close()


@pytest.fixture
def russia_app(
    nodes: tuple[Node, Path], sign_in: Callable[[TestClient], str]
) -> Iterator[TestClient]:
    with TestClient(create_app(nodes[1], replicate=False)) as client:
        sign_in(client)
        yield client


def _signed(
    client: TestClient,
    key: PartyKey,
    method: str,
    target: str,
    body: bytes = b"",
    age: timedelta = timedelta(0),
) -> Response:
    headers = sign_request(key, method, target, body, utc_now() - age)
    return client.request(method, target, content=body, headers=headers)


def _counts(directory: Path) -> list[int]:
    tables = (schema.entries, schema.checkpoints, schema.cosignatures, schema.equivocations)
    with load_node(directory) as node, node.engine.connect() as connection:
        return [
            int(connection.execute(select(func.count()).select_from(t)).scalar_one())
            for t in tables
        ]


def _peer_raws(directory: Path, of: Node) -> list[bytes]:
    with load_node(directory) as node, node.engine.connect() as connection:
        return records.raw_entries(connection, of.log_id)


def test_a_signed_push_is_stored_and_answered_with_a_receipt(
    nodes: tuple[Node, Path], russia_app: TestClient
) -> None:
    nato, _russia_dir = nodes
    msg_id = nato.send(6, {"sequence": "7"})
    response = _signed(russia_app, nato.key, "POST", "/peer/v1/entries", push_body(nato))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["accepted"], answer["duplicates"], answer["size"]) == (2, 0, 2)
    assert accept_receipt(nato, answer["receipt"]) == 2
    assert nato.outbox() == []
    assert nato.log().own[-1].states == ("recorded", "delivered")
    inbox = russia_app.get("/api/v1/inbox").json()
    assert [(m["msg_id"], m["fields"]) for m in inbox] == [(msg_id, {"sequence": "7"})]


def test_a_forged_signature_is_refused(nodes: tuple[Node, Path], russia_app: TestClient) -> None:
    nato, russia_dir = nodes
    nato.send(6, {"sequence": "1"})
    before = _counts(russia_dir)
    impostor = PartyKey.generate("nato")
    response = _signed(russia_app, impostor, "POST", "/peer/v1/entries", push_body(nato))
    assert response.status_code == 401
    assert response.json()["detail"] == "the request signature is not nato's signature"
    assert _counts(russia_dir) == before


def test_an_unsigned_request_is_refused(nodes: tuple[Node, Path], russia_app: TestClient) -> None:
    nato, russia_dir = nodes
    before = _counts(russia_dir)
    response = russia_app.post("/peer/v1/entries", content=push_body(nato))
    assert response.status_code == 401
    assert response.json()["detail"].startswith("unsigned request: missing header Parley-Date")
    assert _counts(russia_dir) == before


def test_a_body_other_than_the_signed_one_is_refused(
    nodes: tuple[Node, Path], russia_app: TestClient
) -> None:
    nato, russia_dir = nodes
    body = push_body(nato)
    headers = sign_request(nato.key, "POST", "/peer/v1/entries", b"{}", nato.clock())
    before = _counts(russia_dir)
    response = russia_app.post("/peer/v1/entries", content=body, headers=headers)
    assert response.status_code == 401
    assert _counts(russia_dir) == before


def test_a_replayed_request_is_refused(nodes: tuple[Node, Path], russia_app: TestClient) -> None:
    nato, russia_dir = nodes
    nato.send(6, {"sequence": "1"})
    body = push_body(nato)
    headers = sign_request(nato.key, "POST", "/peer/v1/entries", body, nato.clock())
    assert russia_app.post("/peer/v1/entries", content=body, headers=headers).status_code == 200
    before = _counts(russia_dir)
    replay = russia_app.post("/peer/v1/entries", content=body, headers=headers)
    assert replay.status_code == 401
    assert replay.json()["detail"].startswith("replayed request: nonce ")
    assert _counts(russia_dir) == before


def test_a_stale_date_is_refused(nodes: tuple[Node, Path], russia_app: TestClient) -> None:
    nato, russia_dir = nodes
    nato.send(6, {"sequence": "1"})
    before = _counts(russia_dir)
    response = _signed(
        russia_app, nato.key, "POST", "/peer/v1/entries", push_body(nato), timedelta(minutes=10)
    )
    assert response.status_code == 401
    assert response.json()["detail"].startswith("stale request: Parley-Date ")
    assert _counts(russia_dir) == before


def test_an_oversize_body_is_refused(nodes: tuple[Node, Path], russia_app: TestClient) -> None:
    nato, russia_dir = nodes
    before = _counts(russia_dir)
    body = b" " * (MAX_BODY_BYTES + 1)
    response = _signed(russia_app, nato.key, "POST", "/peer/v1/entries", body)
    assert response.status_code == 413
    assert response.json()["detail"] == f"request body over {MAX_BODY_BYTES} bytes"
    assert _counts(russia_dir) == before


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "push from nato: not a hotline bundle (JSONDecodeError"),
        (
            b'{"format": "parley-hotline-bundle/v1"}',
            "push from nato: not a hotline bundle (KeyError",
        ),
        (b"[1, 2]", "push from nato: not a hotline bundle (TypeError"),
    ],
)
def test_a_malformed_body_is_refused(
    nodes: tuple[Node, Path], russia_app: TestClient, body: bytes, reason: str
) -> None:
    nato, russia_dir = nodes
    before = _counts(russia_dir)
    response = _signed(russia_app, nato.key, "POST", "/peer/v1/entries", body)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(reason)
    assert _counts(russia_dir) == before


def test_rewritten_history_is_refused_and_kept_as_evidence(
    nodes: tuple[Node, Path], russia_app: TestClient, tmp_path: Path
) -> None:
    nato, russia_dir = nodes
    shutil.copytree(tmp_path / "nato", tmp_path / "nato-backup")
    nato.send(6, {"sequence": "1"})
    response = _signed(russia_app, nato.key, "POST", "/peer/v1/entries", push_body(nato))
    assert response.status_code == 200
    held = _peer_raws(russia_dir, nato)
    with load_node(tmp_path / "nato-backup") as restored:
        restored.send(6, {"sequence": "2"})  # a different seq 1 under nato's key
        forked = push_body(restored)
    entries_before = _counts(russia_dir)[0]
    response = _signed(russia_app, nato.key, "POST", "/peer/v1/entries", forked)
    assert response.status_code == 409
    assert "EQUIVOCATION" in response.json()["detail"]
    assert _peer_raws(russia_dir, nato) == held  # the rewritten entry is not stored
    assert _counts(russia_dir)[0] == entries_before
    assert _counts(russia_dir)[3] == 1  # the evidence is


def test_pull_and_copy_return_signed_logs(nodes: tuple[Node, Path], russia_app: TestClient) -> None:
    nato, _ = nodes
    sent = russia_app.post("/api/v1/messages", json={"template": 6, "fields": {"sequence": "3"}})
    assert sent.status_code == 200, sent.text
    pulled = _signed(russia_app, nato.key, "GET", "/peer/v1/log?after=-1")
    assert pulled.status_code == 200
    summary = import_bundle_bytes(nato, pulled.content, "pull")
    assert (summary.accepted, summary.peer_size) == (2, 2)
    assert [view.msg_id for view in nato.inbox()] == [sent.json()["msg_id"]]
    # russia holds nato's seq 0 only: its copy of nato's log after -1 is empty until a push
    copy = _signed(russia_app, nato.key, "GET", "/peer/v1/copy?after=-1").json()
    assert (copy["log_id"], copy["entries"], copy["checkpoint"]) == (nato.log_id, [], None)
    checkpoint = _signed(russia_app, nato.key, "GET", "/peer/v1/checkpoint").json()
    assert checkpoint["size"] == 2


def test_a_query_other_than_the_signed_one_is_refused(
    nodes: tuple[Node, Path], russia_app: TestClient
) -> None:
    nato, _ = nodes
    headers = sign_request(nato.key, "GET", "/peer/v1/log?after=5", b"", nato.clock())
    response = russia_app.get("/peer/v1/log?after=-1", headers=headers)
    assert response.status_code == 401
    headers[SIGNATURE_HEADER] = "not base64!"
    assert russia_app.get("/peer/v1/log?after=5", headers=headers).status_code == 401


def test_the_officers_api_sends_acknowledges_and_is_documented(
    nodes: tuple[Node, Path], russia_app: TestClient
) -> None:
    nato, _ = nodes
    nato.send(6, {"sequence": "4"})
    assert _signed(russia_app, nato.key, "POST", "/peer/v1/entries", push_body(nato)).is_success
    refused = russia_app.post("/api/v1/inbox/no-such-id/ack")
    assert refused.status_code == 400
    assert "not a message in nato's log" in refused.json()["detail"]
    bad = russia_app.post("/api/v1/messages", json={"template": "no-such-template"})
    assert bad.status_code == 400
    assert "unknown template" in bad.json()["detail"]
    identity = russia_app.get("/api/v1/identity").json()
    assert identity["party"] == "russia"
    assert russia_app.get("/api/v1/verify").json()["ok"] is True
    paths = russia_app.get("/openapi.json").json()["paths"]
    assert {"/api/v1/messages", "/api/v1/inbox/{msg_id}/ack", "/peer/v1/entries"} <= set(paths)


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    settings = ReplicationSettings(initial_backoff_s=0.2, max_backoff_s=30.0)
    rng = random.Random(1)
    delays = [backoff_delay(failures, settings, rng) for failures in (1, 2, 3, 10, 100)]
    ceilings = [0.2, 0.4, 0.8, 30.0, 30.0]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))


def test_a_node_restored_from_a_backup_takes_its_own_entries_back(
    nodes: tuple[Node, Path], russia_app: TestClient, tmp_path: Path
) -> None:
    nato, _ = nodes
    shutil.copytree(tmp_path / "nato", tmp_path / "nato-backup")
    sent = [nato.send(6, {"sequence": str(n)}) for n in (1, 2)]
    assert _signed(russia_app, nato.key, "POST", "/peer/v1/entries", push_body(nato)).is_success
    with load_node(tmp_path / "nato-backup") as restored:
        assert restored.log().own[-1].msg_id != sent[-1]  # the backup lost two messages
        copy = _signed(russia_app, restored.key, "GET", "/peer/v1/copy?after=0").json()
        assert len(copy["entries"]) == 2
        assert recover_own_log(restored, copy) == 2
        assert [view.msg_id for view in restored.log().own[1:]] == sent
        assert restored.outbox() == []  # the peer's receipt covers them
        assert restored.verify().ok
        with restored.engine.connect() as connection:
            assert records.raw_entries(connection, nato.log_id) == _own_raws(nato)
        assert recover_own_log(restored, copy) == 0  # a second time: nothing new


def test_a_copy_of_our_log_that_we_did_not_sign_is_refused(
    nodes: tuple[Node, Path], russia_app: TestClient, tmp_path: Path
) -> None:
    nato, _ = nodes
    shutil.copytree(tmp_path / "nato", tmp_path / "nato-backup")
    nato.send(6, {"sequence": "1"})
    assert _signed(russia_app, nato.key, "POST", "/peer/v1/entries", push_body(nato)).is_success
    with load_node(tmp_path / "nato-backup") as restored:
        copy = _signed(russia_app, restored.key, "GET", "/peer/v1/copy?after=0").json()
        raw = bytearray(base64.b64decode(copy["entries"][0]))
        raw[raw.index(b'"sequence":"1"') + 12] = ord("9")
        forged = {**copy, "entries": [base64.b64encode(bytes(raw)).decode()]}
        with pytest.raises(RecoveryError, match=r"copy entry #0 refused: .*signature"):
            recover_own_log(restored, forged)
        with pytest.raises(RecoveryError, match="checkpoint"):
            recover_own_log(restored, {**copy, "checkpoint": None})
        assert len(restored.log().own) == 1  # nothing stored


def _own_raws(node: Node) -> list[bytes]:
    with node.engine.connect() as connection:
        return records.raw_entries(connection, node.log_id)


def test_a_long_backlog_travels_in_bounded_pushes(
    nodes: tuple[Node, Path], russia_app: TestClient
) -> None:
    nato, _ = nodes
    sent = [nato.send(6, {"sequence": str(n)}) for n in range(5)]
    sizes = []
    while nato.outbox():
        body = push_body(nato, max_entry_bytes=1200)  # about two entries a push
        answer = _signed(russia_app, nato.key, "POST", "/peer/v1/entries", body).json()
        sizes.append(accept_receipt(nato, answer["receipt"]))
    assert sizes == [2, 4, 6]  # seq 0 and 1, then two more, then the last two
    assert [m["msg_id"] for m in russia_app.get("/api/v1/inbox").json()] == sent


def test_nothing_is_written_until_the_node_has_resynced(
    nodes: tuple[Node, Path], sign_in: Callable[[TestClient], str]
) -> None:
    nato, russia_dir = nodes

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    settings = ReplicationSettings(initial_backoff_s=0.01, max_backoff_s=0.05)
    app = create_app(russia_dir, settings, transport=httpx.MockTransport(unreachable))
    with TestClient(app) as client:
        sign_in(client)
        deadline = time.monotonic() + 10
        while client.get("/api/v1/status").json()["replication"]["last_error"] is None:
            assert time.monotonic() < deadline, "replication never tried"
            time.sleep(0.01)
        status = client.get("/api/v1/status").json()["replication"]
        assert status["resynced"] is False
        assert "connection refused" in status["last_error"]
        refused = client.post("/api/v1/messages", json={"template": 6, "fields": {"sequence": "1"}})
        assert refused.status_code == 503
        assert refused.json()["detail"].startswith("resyncing")
        push = _signed(client, nato.key, "POST", "/peer/v1/entries", push_body(nato))
        assert push.status_code == 503
    # the server has stopped: parley hotline send beside it is refused too, until a resync
    before = _counts(russia_dir)
    assert run(["hotline", "send", str(russia_dir), "-t", "6", "-f", "sequence=1"]) == 1
    with load_node(russia_dir) as russia, pytest.raises(ResyncingError, match="resyncing"):
        russia.send(6, {"sequence": "1"})
    assert _counts(russia_dir) == before
