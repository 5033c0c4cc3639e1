"""What the benchmark scripts share: where things are, the machine, timing, tables."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
SHARED = Path(os.environ.get("PARLEY_SHARED", REPO.parent / "shared"))
DATA = SHARED / "data"
PEER = SHARED / "peers" / "traffic-cpa"
WORKDIR = Path(os.environ.get("PARLEY_BENCH_DIR", "/tmp/parley-bench"))
PACKAGES = ("polars", "numpy", "pyarrow", "pyais", "rs1090", "pyproj")


def shared_data_or_exit() -> Path:
    """The shared data folder, or a clear message and exit status 0 when it is missing."""
    if not DATA.is_dir():
        print(f"skipped: {DATA} is missing (set PARLEY_SHARED to the folder holding data/)")
        raise SystemExit(0)
    return DATA


def machine() -> dict[str, Any]:
    """The facts RESULTS.md records about the machine and the software."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    try:
        parley_version = metadata.version("parley")
    except metadata.PackageNotFoundError:
        parley_version = "absent"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "parley": parley_version,
        "packages": versions,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def print_machine(info: dict[str, Any]) -> None:
    packages = ", ".join(f"{k} {v}" for k, v in info["packages"].items())
    print(f"date: {info['date']}; nproc {info['nproc']}; {info['cpu']}; {info['memory_gib']} GiB")
    print(f"python {info['python']}; parley {info['parley']}; {packages}")
    print(
        f"load average at start: {info['load_average']} (other work on the machine slows wall "
        "times; CPU seconds are reported beside them)"
    )


@dataclass(frozen=True, slots=True)
class Timing:
    """The best (smallest) wall time of several runs, and the CPU time of that run."""

    wall_s: float
    cpu_s: float
    runs: int


def best_of(runs: int, work: Callable[[], Any]) -> tuple[Timing, Any]:
    """Run ``work`` ``runs`` times; the fastest run's wall and CPU seconds and its result."""
    best: tuple[float, float] | None = None
    result: Any = None
    for _ in range(runs):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        result = work()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        if best is None or wall < best[0]:
            best = (wall, cpu)
    assert best is not None
    return Timing(best[0], best[1], runs), result


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB.

    VmHWM of /proc/self/status belongs to this program's memory alone; ``ru_maxrss`` is not used
    where /proc exists because Linux carries it over from the parent across fork and exec, so a
    child started by a large parent would report at least the parent's size.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_json(command: Sequence[str], timeout_s: float) -> tuple[dict[str, Any] | None, float, str]:
    """Run a command that prints one JSON object; (object or None, wall seconds, error text)."""
    started = time.perf_counter()
    try:
        done = subprocess.run(
            list(command), capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - started, f"timed out after {timeout_s:.0f} s"
    wall = time.perf_counter() - started
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-3:]
        return None, wall, f"exit {done.returncode}: {' | '.join(tail)}"
    try:
        return json.loads(done.stdout), wall, ""
    except json.JSONDecodeError as exc:
        return None, wall, f"unreadable output ({exc})"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def rate(count: float, seconds: float) -> str:
    """A count per second, readable: 2.4 M/s, 310 k/s."""
    if seconds <= 0:
        return "-"
    per_s = count / seconds
    if per_s >= 1e6:
        return f"{per_s / 1e6:.2f} M/s"
    if per_s >= 1e3:
        return f"{per_s / 1e3:.0f} k/s"
    return f"{per_s:.0f} /s"


def python_command() -> list[str]:
    return [sys.executable]
