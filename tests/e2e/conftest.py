"""Fixtures of the browser tests: a real ``parley serve`` on loopback and Debian's Chromium driven
by Playwright, with every request that would leave the machine refused and recorded.

Without Playwright, Chromium or the desk's libraries (tools/web-assets.sh) the browser tests skip,
or fail when ``PARLEY_REQUIRE_BROWSER=1`` (as ``make test`` runs them).
"""

import csv
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest

import parley
from parley.hotline.node import init_node
from parley.hotline.users import Role, UserStore
from parley.web.desk import missing_vendor_files

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "correct horse battery"
#: How long a desk page may take to draw its map and connect its event stream (software WebGL
#: on a loaded machine).
DESK_READY_MS = 60_000
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
    #: more ``parley serve`` options (the two-node tests retry and pull quickly)
    options: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "parley", "serve", str(self.directory)]
        command += ["--port", str(self.port), "--no-hourly-test", *self.options]
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

    def sign_in(self, page: "Page", name: str = "officer") -> None:
        """Sign ``name`` in through the desk's form, as an officer would."""
        page.goto(f"{self.url}/desk")
        page.fill("#sign-in-form input[name=name]", name)
        page.fill("#sign-in-form input[name=password]", PASSWORD)
        page.click("#sign-in-form button[type=submit]")

    def open_desk(self, page: "Page", name: str = "officer", *, live: bool = True) -> None:
        """Signed in, the map drawn and, when ``live``, the event stream connected."""
        self.sign_in(page, name)
        page.wait_for_selector("body[data-map-ready=true]", timeout=DESK_READY_MS)
        if live:
            page.wait_for_selector("#link[data-state=live]", timeout=DESK_READY_MS)

    def wait_resynced(self, page: "Page") -> None:
        """Until this node's replication has resynced with its peer (it writes only then)."""
        status: dict[str, Any] = {}
        for _ in range(300):
            status = self.api("officer").get("/api/v1/status").json()
            if (status.get("replication") or {}).get("resynced"):
                return
            page.wait_for_timeout(100)
        raise AssertionError(f"{self.url} did not resync: {status}")

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


#: Replication in seconds rather than minutes: the peer answers within the test's wait.
FAST_REPLICATION = ("--retry-initial", "0.05", "--retry-max", "0.5", "--pull-interval", "1")


@pytest.fixture
def desk_pair(
    tmp_path: Path, chromium_browser: "Browser"
) -> Iterator[tuple[DeskServer, DeskServer]]:
    """Two paired nodes, NATO and Russia, both served on loopback and replicating, each with the
    users of :data:`USERS`. Only NATO's node runs the live detector's incidents from pushed
    positions (Russia's gets them through the hotline)."""
    missing = missing_vendor_files()
    if missing:
        _unavailable(
            f"the desk's libraries are missing ({', '.join(missing)}): run tools/web-assets.sh"
        )
    ports = {"nato": _free_port(), "russia": _free_port()}
    with (
        init_node(tmp_path / "nato", "nato") as nato,
        init_node(tmp_path / "russia", "russia") as russia,
    ):
        nato.trust(russia.identity_json(), f"http://{LOOPBACK}:{ports['russia']}")
        russia.trust(nato.identity_json(), f"http://{LOOPBACK}:{ports['nato']}")
        for node in (nato, russia):
            users = UserStore(node.engine, node.clock)
            for name, role in USERS.items():
                users.add_user(name, role, PASSWORD)
    servers = tuple(
        DeskServer(
            tmp_path / party, ports[party], tmp_path / f"{party}.log", options=FAST_REPLICATION
        )
        for party in ("nato", "russia")
    )
    (tmp_path / "nato" / "feeds.toml").write_text("picture_interval_s = 0.05\n", encoding="utf-8")
    # Russia's desk may be fed the same picture: its incidents still come only through the hotline
    (tmp_path / "russia" / "feeds.toml").write_text("open_incidents = false\n", encoding="utf-8")
    try:
        for server in servers:
            server.start()
        yield servers[0], servers[1]
    finally:
        for server in servers:
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


class PageMaker:
    """Fresh pages (1440×900, English), each in its own browser context: two desks on one host
    would otherwise share the session cookie (cookies ignore the port). Any request not to
    127.0.0.1 is aborted and recorded; JavaScript errors fail the test at the end."""

    def __init__(self, browser: "Browser", off_machine: OffMachine) -> None:
        self.browser = browser
        self.off_machine = off_machine
        self.contexts: list[Any] = []
        self.errors: list[Any] = []

    def _guard(self, route: "Route") -> None:
        url = route.request.url
        scheme, host = urlsplit(url).scheme, urlsplit(url).hostname
        if scheme in ("data", "blob") or host == LOOPBACK:
            route.continue_()
        else:
            self.off_machine.urls.append(url)
            route.abort()

    def new_page(self) -> "Page":
        context = self.browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
        context.route("**/*", self._guard)
        self.contexts.append(context)
        opened = context.new_page()
        opened.on("pageerror", lambda error: self.errors.append(error))
        return opened

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def page_maker(chromium_browser: "Browser", off_machine: OffMachine) -> Iterator[PageMaker]:
    maker = PageMaker(chromium_browser, off_machine)
    try:
        yield maker
    finally:
        maker.close()
    assert not maker.errors, f"JavaScript errors on the page: {maker.errors}"


@pytest.fixture
def desk_page(page_maker: PageMaker) -> "Page":
    """A fresh page (1440×900, English); any request not to 127.0.0.1 is aborted and recorded."""
    return page_maker.new_page()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (kept by CI as test artifacts; not committed)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


#: The bundled April 2016 sample (synthetic tracks of the public record; docs/april2016.md).
APRIL_2016 = Path(parley.__file__).resolve().parent / "data" / "samples" / "april2016.csv"
#: Five minutes of 12 April 2016: both Su-24s' low passes over USS Donald Cook.
DONALD_COOK_WINDOW = ("2016-04-12T15:38:00", "2016-04-12T15:43:00")
NUMERIC = {"lat", "lon", "alt_m", "speed_mps", "course_deg", "vrate_mps"}
BATCH = 60


def donald_cook_rows() -> list[dict[str, Any]]:
    """The sample's rows inside :data:`DONALD_COOK_WINDOW`, as JSON rows of the positions API."""
    first, last = DONALD_COOK_WINDOW
    with open(APRIL_2016, encoding="utf-8", newline="") as source:
        rows = [row for row in csv.DictReader(source) if first <= row["time"] < last]
    return [
        {key: float(value) if key in NUMERIC else value for key, value in row.items() if value}
        for row in rows
    ]


def push_donald_cook(server: DeskServer) -> int:
    """Feed the window to a node in batches (as its communications technician), the last one
    with ``end_of_data`` so the live detector closes the encounters and opens the incidents.
    Answers how many rows were sent."""
    rows = donald_cook_rows()
    for start in range(0, len(rows), BATCH):
        answer = server.api("feeder").post(
            "/api/v1/picture/positions",
            json={"positions": rows[start : start + BATCH]},
            params={"end_of_data": str(start + BATCH >= len(rows)).lower()},
        )
        assert answer.status_code == 200, answer.text
    return len(rows)


@pytest.fixture
def donald_cook() -> Callable[[DeskServer], int]:
    """:func:`push_donald_cook`, for tests (they cannot import this module)."""
    return push_donald_cook
