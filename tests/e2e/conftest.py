"""Fixtures of the browser tests: a real ``parley serve`` on loopback and Debian's Chromium driven
by Playwright, with every request that would leave the machine refused and recorded.

Without Playwright, Chromium or the desk's libraries (tools/web-assets.sh) the browser tests skip,
or fail when ``PARLEY_REQUIRE_BROWSER=1`` (as ``make test`` runs them).
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest

from parley.hotline.node import init_node
from parley.hotline.users import Role, UserStore
from parley.web.desk import missing_vendor_files

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "correct horse battery"
#: The desk's users: name -> role.
USERS = {
    "officer": Role.DUTY_OFFICER,
    "feeder": Role.COMMUNICATIONS_TECHNICIAN,
    "admin": Role.ADMINISTRATOR,
}
START_TIMEOUT_S = 120.0
LOOPBACK = "127.0.0.1"


def _require_browser() -> bool:
    return os.environ.get("PARLEY_REQUIRE_BROWSER", "") == "1"


def _unavailable(reason: str) -> None:
    if _require_browser():
        pytest.fail(f"{reason} (PARLEY_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def chromium_executable() -> str | None:
    """Debian's Chromium (``PARLEY_CHROMIUM`` overrides)."""
    configured = os.environ.get("PARLEY_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@dataclass
class DeskServer:
    """One ``parley serve`` of a paired node, and an API client per user."""

    directory: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "parley", "serve", str(self.directory)]
        command += ["--port", str(self.port), "--no-hourly-test"]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"parley serve exited: {self.log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{self.url}/desk/config.json", timeout=1.0).status_code == 200:
                    # the first basemap reads the whole shapefile: not what a test waits for
                    basemap = httpx.get(f"{self.url}/desk/basemap.geojson", timeout=START_TIMEOUT_S)
                    assert basemap.status_code == 200, basemap.text
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"parley serve did not answer within {START_TIMEOUT_S} s")

    def api(self, name: str) -> httpx.Client:
        """A client signed in as ``name`` (one of :data:`USERS`)."""
        if name not in self.clients:
            client = httpx.Client(base_url=self.url, timeout=10.0)
            answer = client.post("/api/v1/session", json={"name": name, "password": PASSWORD})
            answer.raise_for_status()
            client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
            self.clients[name] = client
        return self.clients[name]

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
def desk_server(tmp_path: Path, chromium_browser: "Browser") -> Iterator[DeskServer]:
    """The NATO node of a pair, served on loopback (its peer is not running: the desk does not
    need it). Pictures are published at once (``picture_interval_s``) so tests need not wait.
    Asks for the browser first: without one, nothing is started before the skip."""
    missing = missing_vendor_files()
    if missing:
        _unavailable(
            f"the desk's libraries are missing ({', '.join(missing)}): run tools/web-assets.sh"
        )
    port, peer_port = _free_port(), _free_port()
    with (
        init_node(tmp_path / "nato", "nato") as nato,
        init_node(tmp_path / "russia", "russia") as russia,
    ):
        nato.trust(russia.identity_json(), f"http://{LOOPBACK}:{peer_port}")
        russia.trust(nato.identity_json(), f"http://{LOOPBACK}:{port}")
        users = UserStore(nato.engine, nato.clock)
        for name, role in USERS.items():
            users.add_user(name, role, PASSWORD)
    (tmp_path / "nato" / "feeds.toml").write_text("picture_interval_s = 0.05\n", encoding="utf-8")
    server = DeskServer(tmp_path / "nato", port, tmp_path / "serve.log")
    try:
        server.start()
        yield server
    finally:
        server.close()


@dataclass
class OffMachine:
    """The requests the page tried to send anywhere but the server under test (all refused)."""

    urls: list[str] = field(default_factory=list)


# module scope: Playwright's sync API keeps an event loop running in the main thread while it is
# open, and later tests (asyncio.run) must not find one
@pytest.fixture(scope="module")
def chromium_browser() -> Iterator["Browser"]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install playwright)")
    executable = chromium_executable()
    if executable is None:
        _unavailable("Chromium not found (as root: bash tools/system-packages.sh chromium)")
    # WebGL without a GPU: Chromium's software renderer, allowed explicitly.
    arguments = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--no-sandbox"]
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=arguments)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def off_machine() -> OffMachine:
    return OffMachine()


@pytest.fixture
def desk_page(chromium_browser: "Browser", off_machine: OffMachine) -> Iterator["Page"]:
    """A fresh page (1440×900, English); any request not to 127.0.0.1 is aborted and recorded."""

    def guard(route: "Route") -> None:
        url = route.request.url
        scheme, host = urlsplit(url).scheme, urlsplit(url).hostname
        if scheme in ("data", "blob") or host == LOOPBACK:
            route.continue_()
        else:
            off_machine.urls.append(url)
            route.abort()

    context = chromium_browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
    context.route("**/*", guard)
    opened = context.new_page()
    errors: list[Any] = []
    opened.on("pageerror", lambda error: errors.append(error))
    try:
        yield opened
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (kept by CI as test artifacts; not committed)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
