"""Reading speed of every reader: positions (and NMEA sentences) per second.

Run from the repository root::

    .venv/bin/python bench/bench_readers.py           # about 5 min on 2 cores

For every file of ../shared/data (skipped with a message when that folder is missing) whose
format ``--format auto`` recognises, plus canonical CSV and Parquet written from the switzerland
sample and from a 2 M-row synthetic table (bench/synthetic.py), and an NMEA file made of the real
aisdb sentences repeated 100 times (the real files hold at most 1,000 sentences, too few to time):

- reader alone: ``read_raw(path)`` (the format's reader, decompression included);
- reader + hygiene: ``read_files`` then ``hygiene.clean`` (malformed rows, duplicates, sorting,
  impossible jumps, vertical rates);
- full load: ``load_tracks`` (the above plus sides attribution).

Each figure is the best of 3 runs (10 for files under 100 kB), wall time, with the CPU time of
that run. Targets: canonical CSV and Parquet >= 2 M positions/s, NMEA >= 100 k sentences/s.

The canonical CSV readers side by side (the Polars reader and the compiled parser, same file, one
process; needs no shared data)::

    POLARS_MAX_THREADS=1 taskset -c 0 .venv/bin/python bench/bench_readers.py --compare-csv 1000000

The first read of a file in a fresh process (what ``parley tracks info``/``convert`` do), each
process reading the file twice, the compiled parser and the Polars reader alternately::

    POLARS_MAX_THREADS=1 taskset -c 0 .venv/bin/python bench/bench_readers.py --first-read 1000000
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import benchlib
import synthetic
from benchlib import Timing, best_of, markdown_table, rate
from parley.errors import ParleyError
from parley.tracks.hygiene import clean
from parley.tracks.load import load_tracks, read_files, write_table
from parley.tracks.readers import detect_format, fastcsv, read_raw
from parley.tracks.readers.canonical import read_canonical_csv

NMEA_REPEAT = 100
SYNTHETIC_ROWS = 2_000_000
TARGET_COLUMNAR = 2_000_000
TARGET_NMEA = 100_000


def count_sentences(path: Path) -> int:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())


def made_files(workdir: Path) -> list[tuple[Path, str]]:
    """Canonical CSV/Parquet of switzerland and of synthetic traffic; NMEA repeated."""
    made: list[tuple[Path, str]] = []
    switzerland = benchlib.DATA / "adsb" / "switzerland.json.gz"
    if switzerland.exists():
        table = load_tracks([switzerland]).table
        for suffix in (".csv", ".parquet"):
            path = workdir / f"switzerland-canonical{suffix}"
            write_table(table, path)
            made.append((path, "canonical, from switzerland.json.gz"))
    table = synthetic.generate(SYNTHETIC_ROWS)
    for suffix in (".csv", ".parquet"):
        path = workdir / f"synthetic-2M-canonical{suffix}"
        write_table(table, path)
        made.append((path, f"canonical, synthetic {SYNTHETIC_ROWS:,} rows"))
    nmea = benchlib.DATA / "ais" / "aisdb_20211101_tagblocks.nm4"
    if nmea.exists():
        path = workdir / f"aisdb_tagblocks_x{NMEA_REPEAT}.nm4"
        path.write_bytes(nmea.read_bytes() * NMEA_REPEAT)
        made.append((path, f"aisdb_20211101_tagblocks.nm4 repeated {NMEA_REPEAT}×"))
    return made


def bench_file(path: Path, note: str, repeats: int) -> dict[str, Any]:
    row: dict[str, Any] = {"file": path.name, "note": note, "bytes": path.stat().st_size}
    try:
        fmt = detect_format(path)
    except ParleyError as exc:
        row["error"] = f"not recognised ({str(exc).split(':')[0]} …)"
        return row
    row["format"] = fmt.name
    runs = repeats if row["bytes"] >= 100_000 else max(repeats, 10)
    try:
        reader, raw = best_of(runs, lambda: read_raw(path, fmt.name)[1])
        hygiene, cleaned = best_of(runs, lambda: clean(read_files([path], fmt.name)[0])[0])
        full, _ = best_of(runs, lambda: load_tracks([path], format_name=fmt.name))
    except Exception as exc:  # a reader bug must not stop the benchmark of the others
        row["error"] = f"{type(exc).__name__}: {str(exc)[:120]}"
        return row
    row.update(
        rows=raw.frame.height,
        rejected=len(raw.rejections),
        clean_rows=cleaned.height,
        reader=timing_json(reader),
        hygiene=timing_json(hygiene),
        full=timing_json(full),
    )
    if fmt.name == "ais-nmea":
        row["sentences"] = count_sentences(path)
    return row


def timing_json(timing: Timing) -> dict[str, float]:
    return {"wall_s": timing.wall_s, "cpu_s": timing.cpu_s, "runs": timing.runs}


def verdict(row: dict[str, Any]) -> str:
    if row.get("format") in ("csv", "parquet") and row["rows"] >= 1_000_000:
        per_s = row["rows"] / row["reader"]["wall_s"]
        return f"{'meets' if per_s >= TARGET_COLUMNAR else 'below'} 2 M/s"
    if row.get("format") == "ais-nmea" and row["sentences"] >= 50_000:
        per_s = row["sentences"] / row["reader"]["wall_s"]
        return f"{'meets' if per_s >= TARGET_NMEA else 'below'} 100 k sentences/s"
    return ""


def table_lines(rows: list[dict[str, Any]]) -> list[str]:
    done = [r for r in rows if "error" not in r]
    body = []
    for r in done:
        sentences = r.get("sentences")
        body.append(
            [
                r["file"],
                r["format"],
                f"{r['bytes'] / 1e6:.2f}",
                f"{r['rows']:,}",
                r["rejected"],
                rate(r["rows"], r["reader"]["wall_s"])
                + (f"; {rate(sentences, r['reader']['wall_s'])} sentences" if sentences else ""),
                f"{r['reader']['wall_s']:.3f} ({r['reader']['cpu_s']:.3f})",
                rate(r["rows"], r["hygiene"]["wall_s"]),
                f"{r['hygiene']['wall_s']:.3f} ({r['hygiene']['cpu_s']:.3f})",
                rate(r["rows"], r["full"]["wall_s"]),
                verdict(r),
            ]
        )
    header = [
        "file",
        "format",
        "MB",
        "positions",
        "rejected",
        "reader: positions/s",
        "reader s (cpu)",
        "+hygiene: positions/s",
        "+hygiene s (cpu)",
        "full load_tracks: positions/s",
        "target",
    ]
    lines = [markdown_table(header, body)]
    failed = [r for r in rows if "error" in r]
    if failed:
        lines += ["", "Not timed:"] + [f"- {r['file']}: {r['error']}" for r in failed]
    return lines


def _with_parser(compiled: bool, work: Any) -> Any:
    """``work`` run with the compiled CSV parser switched on or off."""
    previous = os.environ.get(fastcsv.DISABLE_VARIABLE)
    os.environ[fastcsv.DISABLE_VARIABLE] = "0" if compiled else "1"
    try:
        return work()
    finally:
        if previous is None:
            del os.environ[fastcsv.DISABLE_VARIABLE]
        else:
            os.environ[fastcsv.DISABLE_VARIABLE] = previous


def compare_csv(rows: int, workdir: Path, repeats: int) -> None:
    """The Polars reader and the compiled parser on one synthetic canonical CSV, alternately."""
    if not fastcsv.available():
        raise SystemExit("the compiled parser is not built: .venv/bin/pip install -e . --no-deps")
    info = benchlib.machine()
    benchlib.print_machine(info)
    path = workdir / f"synthetic-{rows}-canonical.csv"
    if not path.exists():
        write_table(synthetic.generate(rows), path)
    size = path.stat().st_size
    print(f"  {path.name}: {size / 1e6:.1f} MB, {size / rows:.0f} bytes a row")
    print(
        f"  POLARS_MAX_THREADS={os.environ.get('POLARS_MAX_THREADS', 'unset')}, "
        f"CPUs allowed: {sorted(os.sched_getaffinity(0))}"
    )
    results: dict[str, dict[str, Timing]] = {"polars": {}, "compiled": {}}
    for stage, work in (
        ("reader", lambda: read_canonical_csv(path)),
        ("load_tracks", lambda: load_tracks([path], format_name="csv")),
    ):
        # alternate the two, so both see the same machine load
        for _ in range(repeats):
            for name, compiled in (("polars", False), ("compiled", True)):
                timing, _ = best_of(1, lambda c=compiled, w=work: _with_parser(c, w))
                best = results[name].get(stage)
                if best is None or timing.cpu_s < best.cpu_s:
                    results[name][stage] = timing
    body = []
    for name in ("polars", "compiled"):
        reader, whole = results[name]["reader"], results[name]["load_tracks"]
        body.append(
            [
                name,
                f"{reader.cpu_s:.3f} ({reader.wall_s:.3f})",
                rate(rows, reader.cpu_s),
                f"{whole.cpu_s:.3f} ({whole.wall_s:.3f})",
                rate(rows, whole.cpu_s),
            ]
        )
    header = [
        "path",
        "reader CPU s (wall)",
        "reader positions/CPU-s",
        "load_tracks CPU s (wall)",
        "load_tracks positions/CPU-s",
    ]
    ratio = results["polars"]["reader"].cpu_s / results["compiled"]["reader"].cpu_s
    print("\n" + markdown_table(header, body))
    print(f"\nreader CPU ratio polars/compiled: {ratio:.2f}x (best of {repeats}, alternating)")


# One fresh process: the imports, then the same file read twice; CPU time, page faults.
FIRST_READ_CHILD = """
import json, resource, sys, time
started = time.process_time()
from pathlib import Path
from parley.tracks.readers import fastcsv
from parley.tracks.readers.canonical import read_canonical_csv
imported = time.process_time() - started
warm_mb = int(sys.argv[2])
cpu = time.process_time()
if warm_mb:  # touch and free this much memory first: the process gets it from the VM's host once
    import numpy
    block = numpy.ones(warm_mb * 1024 * 1024 // 8)
    del block
warmed = time.process_time() - cpu
reads = []
for _ in range(2):
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    cpu, wall = time.process_time(), time.perf_counter()
    raw = read_canonical_csv(Path(sys.argv[1]))
    reads.append({
        "cpu_s": time.process_time() - cpu,
        "wall_s": time.perf_counter() - wall,
        "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults,
        "rows": raw.frame.height,
    })
    del raw
print(json.dumps({
    "import_cpu_s": imported, "warm_cpu_s": warmed, "compiled": fastcsv.available(), "reads": reads
}))
"""


def _spread(values: list[float]) -> str:
    return f"{min(values):.3f} / {statistics.median(values):.3f} / {max(values):.3f}"


def first_read(rows: int, workdir: Path, processes: int, warm_mb: int = 0) -> None:
    """The first and second read of a synthetic canonical CSV in fresh processes (each having
    first touched and freed ``warm_mb`` MiB of memory, when not 0)."""
    info = benchlib.machine()
    benchlib.print_machine(info)
    path = workdir / f"synthetic-{rows}-canonical.csv"
    if not path.exists():
        write_table(synthetic.generate(rows), path)
    print(f"  {path.name}: {path.stat().st_size / 1e6:.1f} MB")
    print(f"  load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    runs: dict[str, list[dict[str, Any]]] = {"compiled": [], "polars": []}
    for _ in range(processes):
        for name in ("compiled", "polars"):  # alternately: both see the same load
            env = {**os.environ, fastcsv.DISABLE_VARIABLE: "0" if name == "compiled" else "1"}
            command = [*benchlib.python_command(), "-c", FIRST_READ_CHILD, str(path), str(warm_mb)]
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
            if done.returncode != 0:
                raise SystemExit(f"the {name} child failed: {done.stderr.strip()[-500:]}")
            result = json.loads(done.stdout)
            if result["compiled"] != (name == "compiled"):
                raise SystemExit(f"the {name} child did not use the parser asked for")
            runs[name].append(result)
    print(f"  load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    body = []
    for name, results in runs.items():
        first = [r["reads"][0]["cpu_s"] for r in results]
        second = [r["reads"][1]["cpu_s"] for r in results]
        body.append(
            [
                name,
                _spread(first),
                f"{rate(rows, min(first))}, {rate(rows, statistics.median(first))}",
                _spread(second),
                f"{rate(rows, min(second))}, {rate(rows, statistics.median(second))}",
                f"{statistics.median(r['reads'][0]['faults'] for r in results):,.0f} / "
                f"{statistics.median(r['reads'][1]['faults'] for r in results):,.0f}",
                f"{statistics.median(r['import_cpu_s'] for r in results):.3f}",
                f"{statistics.median(r['warm_cpu_s'] for r in results):.3f}",
            ]
        )
    header = [
        "reader",
        "first read CPU s (min / median / max)",
        "first read positions/CPU-s (best, median)",
        "second read CPU s (min / median / max)",
        "second read positions/CPU-s (best, median)",
        "page faults (first / second, median)",
        "imports CPU s (median)",
        "memory warm-up CPU s (median)",
    ]
    print("\n" + markdown_table(header, body))
    print(f"\n{processes} fresh processes per reader, alternately; CPU time of the read call alone")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=benchlib.WORKDIR)
    parser.add_argument(
        "--compare-csv",
        type=int,
        metavar="ROWS",
        help="only compare the two canonical CSV readers on a synthetic file of ROWS rows",
    )
    parser.add_argument(
        "--first-read",
        type=int,
        metavar="ROWS",
        help="only time the first and second read of a synthetic canonical CSV of ROWS rows, "
        "each in fresh processes (--repeats of them per reader)",
    )
    parser.add_argument(
        "--warm-memory-mb",
        type=int,
        default=0,
        metavar="MB",
        help="with --first-read: each process first touches and frees MB MiB of memory, to "
        "separate the machine's cost of new memory from the reader's",
    )
    args = parser.parse_args()
    if args.first_read:
        args.workdir.mkdir(parents=True, exist_ok=True)
        first_read(args.first_read, args.workdir, args.repeats, args.warm_memory_mb)
        return
    if args.compare_csv:
        args.workdir.mkdir(parents=True, exist_ok=True)
        compare_csv(args.compare_csv, args.workdir, args.repeats)
        return
    benchlib.shared_data_or_exit()
    args.workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    info = benchlib.machine()
    benchlib.print_machine(info)
    files = [(p, "shared data") for p in sorted(benchlib.DATA.glob("*/*")) if p.name != "README.md"]
    files += made_files(args.workdir)
    rows = []
    for path, note in files:
        row = bench_file(path, note, args.repeats)
        rows.append(row)
        if "error" in row:
            print(f"  {path.name}: {row['error']}")
        else:
            print(
                f"  {path.name} [{row['format']}]: {row['rows']} rows, reader "
                f"{rate(row['rows'], row['reader']['wall_s'])}, +hygiene "
                f"{rate(row['rows'], row['hygiene']['wall_s'])} {verdict(row)}"
            )
    out = args.workdir / "bench_readers.json"
    out.write_text(json.dumps({"machine": info, "rows": rows}, indent=1))
    print("\n" + "\n".join(table_lines(rows)))
    print(f"\ntotal {time.perf_counter() - started:.0f} s; raw figures in {out}")


if __name__ == "__main__":
    main()
