"""Two real servers on loopback: a message crosses, is acknowledged, and 50 messages sent while the
peer is down (killed with SIGKILL) all arrive exactly once after it restarts."""

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.cli.main import run
from parley.hotline import records
from parley.hotline.node import init_node, load_node
from parley.hotline.users import Role, UserStore

pytestmark = pytest.mark.slow

BOUND_S = 20.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


OFFICER, PASSWORD = "officer", "correct horse battery"


class Server:
    """One ``parley serve`` process and an HTTP client to its officers' API."""

    def __init__(self, directory: Path, port: int, log: Path) -> None:
        self.directory, self.port, self.log = directory, port, log
        self.process: subprocess.Popen[bytes] | None = None
        self.api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5.0)

    def start(self) -> None:
        command = [sys.executable, "-m", "parley", "serve", str(self.directory)]
        command += ["--port", str(self.port), "--retry-initial", "0.05", "--retry-max", "0.5"]
        command += ["--pull-interval", "1", "--no-hourly-test"]  # exact message counts below
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    def wait_resynced(self) -> None:
        """Wait until the server answers and has taken back its own log from the peer."""
        _wait_for(lambda: self._status().get("replication", {}).get("resynced"), "resynced")

    def _status(self) -> dict[str, Any]:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"server exited: {self.log.read_text(errors='replace')}")
        try:
            if "Authorization" not in self.api.headers:
                self._sign_in()
            data = self.api.get("/api/v1/status").json()
        except httpx.TransportError:
            return {}
        assert isinstance(data, dict)
        return data

    def _sign_in(self) -> None:
        answer = self.api.post("/api/v1/session", json={"name": OFFICER, "password": PASSWORD})
        answer.raise_for_status()
        self.api.headers["Authorization"] = f"Bearer {answer.json()['token']}"

    def kill(self, how: int) -> int:
        assert self.process is not None
        self.process.send_signal(how)
        code = self.process.wait(timeout=BOUND_S)
        self.process = None
        return code

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=BOUND_S)
        self.api.close()


def _wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + BOUND_S
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {BOUND_S} s waiting for {what}")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    nato_port, russia_port = _free_port(), _free_port()
    with (
        init_node(tmp_path / "nato", "nato") as nato,
        init_node(tmp_path / "russia", "russia") as ru,
    ):
        nato.trust(ru.identity_json(), f"http://127.0.0.1:{russia_port}")
        ru.trust(nato.identity_json(), f"http://127.0.0.1:{nato_port}")
        for node in (nato, ru):
            UserStore(node.engine, node.clock).add_user(OFFICER, Role.DUTY_OFFICER, PASSWORD)
    pair = (
        Server(tmp_path / "nato", nato_port, tmp_path / "nato.log"),
        Server(tmp_path / "russia", russia_port, tmp_path / "russia.log"),
    )
    try:
        yield pair
    finally:
        for server in pair:
            server.close()


def _inbox_ids(server: Server) -> list[str]:
    return [m["msg_id"] for m in server.api.get("/api/v1/inbox").json()]


def _own_states(server: Server) -> dict[str, list[str]]:
    return {m["msg_id"]: m["states"] for m in server.api.get("/api/v1/log").json()["own"]}


def _send(server: Server, sequence: int) -> str:
    response = server.api.post(
        "/api/v1/messages", json={"template": "test", "fields": {"sequence": str(sequence)}}
    )
    assert response.status_code == 200, response.text
    msg_id = response.json()["msg_id"]
    assert isinstance(msg_id, str)
    return msg_id


def _logs(directory: Path) -> dict[str, list[bytes]]:
    with load_node(directory) as node, node.engine.connect() as connection:
        return {
            log_id: records.raw_entries(connection, log_id)
            for log_id in (node.log_id, node.peer_log_id)
        }


def test_two_nodes_deliver_acknowledge_and_catch_up(servers: tuple[Server, Server]) -> None:
    nato, russia = servers
    nato.start()
    russia.start()
    nato.wait_resynced()
    russia.wait_resynced()

    first = _send(nato, 1)
    _wait_for(lambda: first in _inbox_ids(russia), "the message in russia's inbox")
    ack = russia.api.post(f"/api/v1/inbox/{first}/ack")
    assert ack.status_code == 200, ack.text
    states = _wait_for(
        lambda: "acknowledged" in _own_states(nato)[first] and _own_states(nato)[first],
        "delivered and acknowledged at nato",
    )
    assert states == ["recorded", "delivered", "acknowledged"]

    assert russia.kill(signal.SIGKILL) == -signal.SIGKILL
    sent = [_send(nato, sequence) for sequence in range(2, 52)]
    assert nato.api.get("/api/v1/status").json()["replication"]["outbox"] >= 1
    russia.start()
    russia.wait_resynced()
    _wait_for(lambda: len(_inbox_ids(russia)) == 51, "the 50 messages in russia's inbox")
    received = _inbox_ids(russia)
    assert received == [first, *sent]  # each exactly once, in order
    _wait_for(lambda: all("delivered" in _own_states(nato)[m] for m in sent), "receipts for all 50")

    # Ctrl-C stops each server cleanly
    assert nato.kill(signal.SIGINT) == 0
    assert russia.kill(signal.SIGINT) == 0
    for server in servers:  # parley hotline verify, in this process to save a start-up
        assert run(["hotline", "verify", str(server.directory)]) == 0
    nato_logs, russia_logs = _logs(nato.directory), _logs(russia.directory)
    assert nato_logs == russia_logs
    assert sorted(len(raws) for raws in nato_logs.values()) == [2, 52]
