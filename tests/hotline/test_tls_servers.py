"""Two real ``parley serve`` processes paired over https://: the peer protocol runs over mutual TLS
with each side's certificate pinned; a client without a certificate, or with one not pinned, is
refused during the TLS handshake; the officers' port needs no client certificate."""

import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.hotline.config import write_tls
from parley.hotline.node import init_node
from parley.hotline.tls import client_context, generate_credential
from parley.hotline.users import Role, UserStore

pytestmark = pytest.mark.slow

BOUND_S = 60.0  # a loaded machine can take half a minute to start a server
OFFICER, PASSWORD = "officer", "correct horse battery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + BOUND_S
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {BOUND_S} s waiting for {what}")


@dataclass
class Server:
    """One ``parley serve`` process: officers' API on ``port``, mutual TLS on ``peer_port``."""

    directory: Path
    port: int
    peer_port: int
    log: Path
    process: "subprocess.Popen[bytes] | None" = None
    api: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.api = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=5.0)

    def start(self) -> None:
        command = [sys.executable, "-m", "parley", "serve", str(self.directory)]
        command += ["--port", str(self.port), "--peer-port", str(self.peer_port)]
        command += ["--retry-initial", "0.05", "--retry-max", "0.5", "--pull-interval", "1"]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    def status(self) -> dict[str, Any]:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"server exited: {self.log.read_text(errors='replace')}")
        try:
            if "Authorization" not in self.api.headers:
                answer = self.api.post(
                    "/api/v1/session", json={"name": OFFICER, "password": PASSWORD}
                )
                answer.raise_for_status()
                self.api.headers["Authorization"] = f"Bearer {answer.json()['token']}"
            data = self.api.get("/api/v1/status").json()
        except httpx.TransportError:
            return {}
        assert isinstance(data, dict)
        return data

    def wait_resynced(self) -> None:
        """Resynced means one signed request crossed the mutual-TLS link to the peer."""
        _wait_for(lambda: self.status().get("replication", {}).get("resynced"), "resynced")

    def stop(self, how: int) -> int:
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


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    tmp_path = tmp_path_factory.mktemp("tls")
    nato = Server(tmp_path / "nato", _free_port(), _free_port(), tmp_path / "nato.log")
    russia = Server(tmp_path / "russia", _free_port(), _free_port(), tmp_path / "russia.log")
    with init_node(nato.directory, "nato") as a, init_node(russia.directory, "russia") as b:
        a.trust(b.identity_json(), f"https://127.0.0.1:{russia.peer_port}")
        b.trust(a.identity_json(), f"https://localhost:{nato.peer_port}")
        for node in (a, b):
            UserStore(node.engine, node.clock).add_user(OFFICER, Role.DUTY_OFFICER, PASSWORD)
    try:
        nato.start()
        russia.start()
        nato.wait_resynced()
        russia.wait_resynced()
        yield nato, russia
    finally:
        nato.close()
        russia.close()


def test_a_message_crosses_the_mutual_tls_link_and_is_acknowledged(
    servers: tuple[Server, Server],
) -> None:
    nato, russia = servers
    sent = nato.api.post("/api/v1/messages", json={"template": "test", "fields": {"sequence": "1"}})
    assert sent.status_code == 200, sent.text
    msg_id = sent.json()["msg_id"]

    def inbox() -> list[str]:
        return [m["msg_id"] for m in russia.api.get("/api/v1/inbox").json()]

    _wait_for(lambda: msg_id in inbox(), "the message in russia's inbox")
    assert russia.api.post(f"/api/v1/inbox/{msg_id}/ack").status_code == 200

    def states() -> list[str]:
        own = nato.api.get("/api/v1/log").json()["own"]
        return next(m["states"] for m in own if m["msg_id"] == msg_id)

    assert _wait_for(lambda: "acknowledged" in states() and states(), "acknowledged at nato") == [
        "recorded",
        "delivered",
        "acknowledged",
    ]
    status = nato.status()["replication"]
    assert status["last_error"] is None
    assert status["peer"] == f"https://127.0.0.1:{russia.peer_port}"


def _exchange(context: ssl.SSLContext, port: int, path: str = "/peer/v1/checkpoint") -> bytes:
    """One HTTP/1.1 request over TLS to the peer port; the raw answer."""
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw) as tls,
    ):
        tls.sendall(request)
        answer = b""
        while chunk := tls.recv(65536):
            answer += chunk
    return answer


def _refused_in_tls(context: ssl.SSLContext, port: int) -> str:
    """How the peer port refused: the TLS alert, or the connection closed before any HTTP.

    TLS 1.3 finishes the client's side of the handshake before the server checks the client's
    certificate; the server's alert may or may not reach the client before the connection closes.
    """
    try:
        answer = _exchange(context, port)
    except ssl.SSLError as exc:
        return str(exc)
    assert answer == b"", f"the peer port answered HTTP: {answer[:60]!r}"
    return "closed"


def _no_certificate_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def test_the_pinned_peer_passes_tls_and_its_unsigned_request_meets_the_signature_check(
    servers: tuple[Server, Server],
) -> None:
    nato, russia = servers
    pinned_nato = (nato.directory / "tls-cert.pem").read_bytes()
    answer = _exchange(client_context(russia.directory, pinned_nato), nato.peer_port)
    # through TLS: the application answers, and refuses the request for lacking a signature
    assert answer.startswith(b"HTTP/1.1 401")
    # the peer port serves nothing but the peer protocol
    answer = _exchange(client_context(russia.directory, pinned_nato), nato.peer_port, "/docs")
    assert answer.startswith(b"HTTP/1.1 404")


def test_a_client_without_a_certificate_is_refused_in_the_handshake(
    servers: tuple[Server, Server],
) -> None:
    nato, _ = servers
    how = _refused_in_tls(_no_certificate_context(), nato.peer_port)
    assert how == "closed" or "CERTIFICATE_REQUIRED" in how


def test_a_client_with_an_unpinned_certificate_is_refused_in_the_handshake(
    servers: tuple[Server, Server], tmp_path: Path
) -> None:
    nato, _ = servers
    write_tls(tmp_path, generate_credential("russia"))  # russia's name, not its pinned key
    pinned_nato = (nato.directory / "tls-cert.pem").read_bytes()
    how = _refused_in_tls(client_context(tmp_path, pinned_nato), nato.peer_port)
    assert how == "closed" or "UNKNOWN_CA" in how


def test_the_client_refuses_a_server_whose_certificate_is_not_pinned(
    servers: tuple[Server, Server],
) -> None:
    nato, russia = servers
    not_nato = generate_credential("nato").certificate_pem
    with pytest.raises(ssl.SSLCertVerificationError, match="self-signed certificate"):
        _exchange(client_context(russia.directory, not_nato), nato.peer_port)


def test_the_officers_port_needs_no_certificate_and_serves_no_peer_protocol(
    servers: tuple[Server, Server],
) -> None:
    nato, _ = servers
    with httpx.Client(base_url=f"http://127.0.0.1:{nato.port}", timeout=5.0) as browser:
        assert browser.get("/openapi.json").status_code == 200
        refused = browser.get("/peer/v1/checkpoint")
    assert refused.status_code == 404
    assert "mutual-TLS peer port" in refused.json()["detail"]


def test_ctrl_c_stops_both_listeners_cleanly(servers: tuple[Server, Server]) -> None:
    nato, russia = servers
    for server in (nato, russia):
        assert server.stop(signal.SIGINT) == 0
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", server.peer_port), timeout=2).close()
