"""The desk at scale: 10,000 tracks updating once a second, in headless Chromium (issue 7, item 7).

A real ``parley serve`` of a fresh NATO node on loopback (``picture_interval_s = 1``: one
``picture.updated`` event a second with every track that moved), fed by a thread that posts
every track's next report to ``POST /api/v1/picture/positions`` once a second (canonical CSV, data
time advancing one second per post). Synthetic traffic over the Baltic theatre (53–66° N,
9–31° E): 40 % aircraft (120–250 m/s, types of fighters, bombers, patrol aircraft, transports,
helicopters), 60 % ships (3–15 m/s; warships, merchants, tankers, fishing, ferries); 30 % of tracks
nato, 20 % russia, 50 % civil; one party aircraft in fifty dark.

Debian's Chromium, driven by Playwright with the browser tests' flags (no GPU: WebGL through
SwiftShader, Chromium's software renderer), opens the desk at 1440×900 and signs in. Measured:

- **first screen**: the page reloaded with the session alive (what an officer sees after F5 or
  on opening the desk again): navigation start to the ``parley:first-picture`` performance mark,
  which the desk sets in the first animation frame whose rendered features include track symbols
  (``layers.js``: ``queryRenderedFeatures`` on the ``tracks`` layer, checked each frame until
  then). The node already holds the picture; the basemap of the theatre has been computed once
  (a node does that when the page is first served). Repeated ``--reloads`` times.
- **frames per second**: a ``requestAnimationFrame`` loop records every frame's timestamp over
  ``--seconds`` seconds (after ``--settle`` seconds); per whole second the frame count (its 5th
  percentile, median and minimum), and the longest frame interval. Also counted: the
  ``picture.updated`` events the page received in that window and the JavaScript long tasks
  (> 50 ms) of the main thread; and per second, the live events that arrived (``picture.updated``,
  ``warning.*``, ``encounter.*``) and the map's repaints, to see what precedes a dip.
- CPU seconds of the server and of Chromium's processes (all of them) over the measured window,
  and the machine's load average: the machine is shared, wall figures are noisy.

    .venv/bin/python bench/bench_desk.py                       # about 2 minutes
    .venv/bin/python bench/bench_desk.py --tracks 1000 --seconds 10 --screenshot /tmp/desk.png
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil  # type: ignore[import-untyped]  # psutil ships no type information

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import machine, markdown_table, print_machine
from parley.hotline.node import init_node
from parley.hotline.users import Role, UserStore
from parley.web.desk import missing_vendor_files

LOOPBACK = "127.0.0.1"
PASSWORD = "correct horse battery"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
METRES_PER_DEG = 111_195.0
#: The browser tests' flags: WebGL without a GPU through SwiftShader.
CHROMIUM_ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--no-sandbox"]
AIR_TYPES = ("Su-27", "Su-24", "Tu-22M3", "Il-20", "F-16", "Eurofighter", "P-8", "KC-135",
             "C-130", "Ka-27", "A320", "B738")  # fmt: skip
SEA_TYPES = ("destroyer", "frigate", "corvette", "submarine", "patrol vessel", "Cargo", "Tanker",
             "Fishing", "Passenger", "Tug")  # fmt: skip
CSV_HEADER = "time,track,side,domain,lat,lon,alt_m,speed_mps,course_deg,transponder,callsign,type"

#: The live events whose arrival times are logged beside the frames (what precedes a dip), with
#: the map's repaints.
EVENT_TYPES = ["picture.updated", "warning.raised", "warning.updated", "warning.withdrawn",
               "encounter.opened", "encounter.updated", "encounter.closed"]  # fmt: skip
#: Counts every animation frame's timestamp and the main thread's long tasks, from now on.
FRAME_COUNTER = """(EVENT_TYPES) => {
  window.__bench = { start: performance.now(), frames: [], longTasks: [], pictures: 0 };
  const tick = (now) => { window.__bench.frames.push(now); requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__bench.longTasks.push(entry.duration);
  }).observe({ entryTypes: ["longtask"] });
  parleyDesk.stream.addEventListener("picture.updated", () => window.__bench.pictures++);
  const events = window.__bench.events = [];
  for (const type of EVENT_TYPES) {
    parleyDesk.stream.addEventListener(type, () => events.push([performance.now(), type]));
  }
  // each repaint of the map (without a GPU, a few hundred ms of the GPU process's CPU)
  parleyDesk.map.on("render", () => events.push([performance.now(), "map repaint"]));
}"""
#: The tracks the latest frame drew (the desk's own count where it has one: its dots are a custom
#: WebGL layer, which queryRenderedFeatures does not see).
TRACKS_DRAWN = """() => parleyDesk.drawnTracks ? parleyDesk.drawnTracks()
  : parleyDesk.map.queryRenderedFeatures({layers: ['tracks', 'track-dots']}).length"""
#: Where the first screen's time goes: milliseconds from the navigation's start to the end of
#: each step (resources: responseEnd; marks: their time).
TIMELINE = """() => {
  const out = {};
  const nav = performance.getEntriesByType("navigation")[0];
  out["DOMContentLoaded"] = nav ? Math.round(nav.domContentLoadedEventEnd) : null;
  const wanted = { "maplibre-gl.mjs": "maplibre script", "milsymbol.js": "milsymbol script",
    "desk.js": "desk script", "style.json": "style", "basemap.geojson": "basemap",
    "api/v1/picture": "picture (main thread)" };
  for (const entry of performance.getEntriesByType("resource")) {
    for (const [part, name] of Object.entries(wanted)) {
      if (entry.name.includes(part) && !(name in out)) out[name] = Math.round(entry.responseEnd);
    }
  }
  for (const mark of ["parley:map-loaded", "parley:first-tracks", "parley:first-picture"]) {
    const entry = performance.getEntriesByName(mark)[0];
    if (entry) out[mark.replace("parley:", "").replace("-", " ")] = Math.round(entry.startTime);
  }
  return out;
}"""
RENDERER = """() => {
  const gl = document.createElement("canvas").getContext("webgl");
  const info = gl && gl.getExtension("WEBGL_debug_renderer_info");
  return gl ? (info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER))
            : "no WebGL";
}"""


@dataclass
class Traffic:
    """Every track's state; :meth:`step` advances one second and answers the CSV of the reports."""

    tracks: int
    #: the share of nato tracks and of russia tracks each (the rest is civil)
    party_share: float = 0.1
    seed: int = 1
    second: int = 0
    ids: list[str] = field(init=False)
    lat: np.ndarray = field(init=False)
    lon: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        n = self.tracks
        self.air = rng.random(n) < 0.4
        draw = rng.random(n)
        share = self.party_share
        self.side = np.where(draw < share, "nato", np.where(draw < 2 * share, "russia", "civil"))
        self.lat = rng.uniform(53.5, 65.5, n)
        self.lon = rng.uniform(9.5, 30.5, n)
        self.speed = np.where(self.air, rng.uniform(120, 250, n), rng.uniform(3, 15, n))
        self.course = rng.uniform(0, 360, n)
        self.alt = np.where(self.air, rng.integers(10, 390, n) * 30.48, 0.0)
        air_types = np.array(AIR_TYPES)[rng.integers(0, len(AIR_TYPES), n)]
        sea_types = np.array(SEA_TYPES)[rng.integers(0, len(SEA_TYPES), n)]
        self.type = np.where(self.air, air_types, sea_types)
        dark = self.air & (self.side != "civil") & (rng.random(n) < 0.02)
        self.transponder = np.where(dark, "off", "on")
        self.ids = [
            f"icao:{0x100000 + i:06x}" if air else f"mmsi:{200000000 + i}"
            for i, air in enumerate(self.air)
        ]

    def step(self) -> bytes:
        """Move every track one second on and answer their reports as canonical CSV."""
        self.second += 1
        radians = np.radians(self.course)
        self.lat = self.lat + self.speed * np.cos(radians) / METRES_PER_DEG
        self.lon = self.lon + self.speed * np.sin(radians) / (
            METRES_PER_DEG * np.cos(np.radians(self.lat))
        )
        stamp = (T0 + timedelta(seconds=self.second)).strftime("%Y-%m-%dT%H:%M:%SZ")
        out = io.StringIO()
        out.write(CSV_HEADER + "\n")
        domain = np.where(self.air, "air", "sea")
        for i, track in enumerate(self.ids):
            out.write(
                f"{stamp},{track},{self.side[i]},{domain[i]},{self.lat[i]:.5f},"
                f"{self.lon[i]:.5f},{self.alt[i]:.0f},{self.speed[i]:.1f},{self.course[i]:.1f},"
                f"{self.transponder[i]},,{self.type[i]}\n"
            )
        return out.getvalue().encode()


class Feeder(threading.Thread):
    """Posts every track's next report once a second (wall) while running."""

    def __init__(self, url: str, token: str, traffic: Traffic) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(
            base_url=url, timeout=30.0, headers={"Authorization": f"Bearer {token}"}
        )
        self.traffic = traffic
        self.stopping = threading.Event()
        self.post_s: list[float] = []
        self.errors: list[str] = []
        self.late = 0

    def post_once(self) -> None:
        body = self.traffic.step()
        started = time.perf_counter()
        answer = self.client.post(
            "/api/v1/picture/positions", content=body, headers={"Content-Type": "text/csv"}
        )
        self.post_s.append(time.perf_counter() - started)
        if answer.status_code != 200:
            self.errors.append(f"{answer.status_code}: {answer.text[:200]}")

    def run(self) -> None:
        next_at = time.monotonic()
        while not self.stopping.is_set():
            self.post_once()
            next_at += 1.0
            wait = next_at - time.monotonic()
            if wait < 0:
                self.late += 1
                next_at = time.monotonic()
            elif self.stopping.wait(wait):
                break
        self.client.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def make_node(root: Path, port: int) -> Path:
    """A NATO node paired with a (not running) Russian one, an officer and a feeder."""
    with init_node(root / "nato", "nato") as nato, init_node(root / "russia", "russia") as russia:
        nato.trust(russia.identity_json(), f"http://{LOOPBACK}:{free_port()}")
        russia.trust(nato.identity_json(), f"http://{LOOPBACK}:{port}")
        users = UserStore(nato.engine, nato.clock)
        users.add_user("officer", Role.DUTY_OFFICER, PASSWORD)
        users.add_user("feeder", Role.COMMUNICATIONS_TECHNICIAN, PASSWORD)
    (root / "nato" / "feeds.toml").write_text("picture_interval_s = 1.0\n", encoding="utf-8")
    return root / "nato"


def start_server(directory: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "parley", "serve", str(directory), "--port", str(port)]
    command.append("--no-hourly-test")
    with open(log, "ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://{LOOPBACK}:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"parley serve exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/desk/config.json", timeout=1.0).status_code == 200:
                httpx.get(f"{url}/desk/basemap.geojson", timeout=120).raise_for_status()
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("parley serve did not answer within 120 s")


def token(url: str, name: str) -> str:
    answer = httpx.post(
        f"{url}/api/v1/session", json={"name": name, "password": PASSWORD}, timeout=60
    )
    answer.raise_for_status()
    return str(answer.json()["token"])


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def chromium_processes() -> list[psutil.Process]:
    """This benchmark's Chromium (descendants of this process named chrom*)."""
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if "chrom" in child.name().lower()
    ]


def frame_figures(start: float, end: float, frames: list[float]) -> dict[str, Any]:
    """Per whole second of the window (``start``..``end``, page milliseconds), the frames drawn;
    and the longest interval between frames (the window's edges count as frames)."""
    stamps = np.asarray(frames, dtype=float)
    stamps = stamps[stamps >= start]  # a frame's timestamp is its start: the first may precede
    seconds = max(1, int((end - start) // 1000))
    counts = np.bincount(((stamps - start) // 1000).astype(int), minlength=seconds)[:seconds]
    intervals = np.diff(np.concatenate([[start], stamps, [end]]))
    return {
        "seconds": seconds,
        "fps_p5": float(np.percentile(counts, 5)),
        "fps_median": float(np.median(counts)),
        "fps_min": int(counts.min()),
        "fps_mean": round(len(stamps) / ((end - start) / 1000), 1),
        "longest_frame_ms": round(float(intervals.max()), 1),
        "frames_over_33ms": int((intervals > 1000 / 30).sum()),
        "per_second": counts.tolist(),
    }


def event_figures(start: float, end: float, events: list[list[Any]]) -> dict[str, list[int]]:
    """Per event type (and "map repaint"), how many arrived in each whole second of the window
    (beside the frames: which events precede a dip)."""
    seconds = max(1, int((end - start) // 1000))
    counts: dict[str, list[int]] = {}
    for stamp, kind in events:
        second = int((stamp - start) // 1000)
        if 0 <= second < seconds:
            counts.setdefault(kind, [0] * seconds)[second] += 1
    return counts


def run(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    port = free_port()
    root = Path(tempfile.mkdtemp(prefix="parley-bench-desk-"))
    directory = make_node(root, port)
    server = start_server(directory, port, root / "serve.log")
    url = f"http://{LOOPBACK}:{port}"
    feeder = Feeder(url, "", Traffic(args.tracks))
    result: dict[str, Any] = {"tracks": args.tracks}
    try:
        feeder.client.headers["Authorization"] = f"Bearer {token(url, 'feeder')}"
        feeder.post_once()  # the node holds a picture before the page opens
        feeder.start()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{url}/desk")
            page.fill("#sign-in-form input[name=name]", "officer")
            page.fill("#sign-in-form input[name=password]", PASSWORD)
            page.click("#sign-in-form button[type=submit]")
            page.wait_for_selector("body[data-first-picture=true]", timeout=120_000)
            result["renderer"] = page.evaluate(RENDERER)
            first: list[float] = []
            timelines: list[dict[str, float]] = []
            for _ in range(args.reloads):
                page.reload()
                page.wait_for_selector("body[data-first-picture=true]", timeout=120_000)
                timeline = page.evaluate(TIMELINE)
                first.append(timeline["first picture"])
                timelines.append(timeline)
            result["first_screen_ms"] = first
            result["first_screen_timeline"] = timelines
            page.wait_for_function(
                f"() => parleyDesk.picture.tracks.size >= {args.tracks}", timeout=60_000
            )
            page.wait_for_timeout(args.settle * 1000)
            browsers = chromium_processes()
            load0 = os.getloadavg()
            cpu0 = (cpu_seconds([psutil.Process(server.pid)]), cpu_seconds(browsers))
            posts0 = len(feeder.post_s)
            page.evaluate(FRAME_COUNTER, EVENT_TYPES)
            wall0 = time.perf_counter()
            page.wait_for_timeout(args.seconds * 1000)
            bench = page.evaluate("() => ({...window.__bench, end: performance.now()})")
            wall = time.perf_counter() - wall0
            cpu1 = (cpu_seconds([psutil.Process(server.pid)]), cpu_seconds(browsers))
            result |= frame_figures(bench["start"], bench["end"], bench["frames"])
            events = event_figures(bench["start"], bench["end"], bench["events"])
            result["events_per_second"] = events
            result["long_tasks"] = len(bench["longTasks"])
            result["long_task_ms_total"] = round(sum(bench["longTasks"]))
            result["picture_events"] = bench["pictures"]
            result["tracks_in_page"] = page.evaluate("() => parleyDesk.picture.tracks.size")
            result["tracks_drawn"] = page.evaluate(TRACKS_DRAWN)
            result["window_s"] = round(wall, 1)
            result["server_cpu_s"] = round(cpu1[0] - cpu0[0], 1)
            result["chromium_cpu_s"] = round(cpu1[1] - cpu0[1], 1)
            result["load_average"] = [round(x, 2) for x in (*load0, *os.getloadavg())]
            posts = feeder.post_s[posts0:]
            result["posts"] = len(posts)
            result["post_median_ms"] = round(1000 * statistics.median(posts)) if posts else None
            result["page_errors"] = errors
            if args.screenshot:
                page.screenshot(path=args.screenshot)
            browser.close()
    finally:
        feeder.stopping.set()
        feeder.join(timeout=30)
        server.terminate()
        server.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    result["feeder_late"] = feeder.late
    result["feeder_errors"] = feeder.errors[:3]
    return result


def report(result: dict[str, Any]) -> None:
    first = result["first_screen_ms"]
    rows = [
        [
            f"{result['tracks']:,}",
            result["renderer"],
            f"{statistics.median(first):.0f} (max {max(first):.0f}, n={len(first)})",
            f"{result['fps_p5']:.0f}",
            f"{result['fps_median']:.0f}",
            result["fps_min"],
            result["longest_frame_ms"],
            result["long_tasks"],
            f"{result['picture_events']} in {result['window_s']} s",
            f"{result['server_cpu_s']} / {result['chromium_cpu_s']}",
        ]
    ]
    header = [
        "tracks",
        "renderer",
        "first screen ms (median)",
        "fps p5",
        "fps median",
        "fps min",
        "longest frame ms",
        "long tasks",
        "picture events",
        "CPU s server / Chromium",
    ]
    print(markdown_table(header, rows))
    print(f"frames per second, each second: {result['per_second']}")
    for kind, counts in sorted(result["events_per_second"].items()):
        print(f"{kind} events, each second: {counts}")
    for timeline in result["first_screen_timeline"]:
        print(f"first screen, ms from navigation: {timeline}")
    print(
        f"tracks in the page {result['tracks_in_page']}, drawn {result['tracks_drawn']}; "
        f"posts {result['posts']} (median {result['post_median_ms']} ms, late "
        f"{result['feeder_late']}); load average before/after {result['load_average']}"
    )
    if result["page_errors"] or result["feeder_errors"]:
        print(f"errors: page {result['page_errors']}; feeder {result['feeder_errors']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tracks", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=40, help="the frame-counting window")
    parser.add_argument("--settle", type=int, default=5, help="seconds before counting frames")
    parser.add_argument("--reloads", type=int, default=3, help="first-screen measurements")
    parser.add_argument("--screenshot", help="save the page at the end to this PNG")
    parser.add_argument("--json", help="write the figures to this file too")
    parser.add_argument("--keep", action="store_true", help="keep the node's directory")
    args = parser.parse_args()
    missing = missing_vendor_files()
    if missing:
        raise SystemExit(f"the desk's libraries are missing ({missing}): run tools/web-assets.sh")
    info = machine()
    print_machine(info)
    result = run(args)
    report(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result | {"machine": info}, indent=1))
    if not math.isfinite(result["fps_p5"]):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
