"""``parley demo``: the replay's batching, its errors, and the whole run on two real desks."""

import itertools
import json
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from parley.cli.demo_run import batch_bounds
from parley.cli.main import run


def test_batches_cover_every_row_once_and_skip_quiet_spells() -> None:
    seconds = np.array([0, 1, 2, 5, 9, 10, 500, 501, 2000], dtype=np.int64)
    bounds = list(batch_bounds(seconds * 1_000_000, step_us=4_000_000, max_gap_us=60_000_000))
    assert bounds[0][0] == 0
    assert bounds[-1][1] == len(seconds)
    assert all(end == next_start for (_, end), (next_start, _) in itertools.pairwise(bounds))
    batches = [seconds[i:j].tolist() for i, j in bounds]
    assert batches == [[0, 1, 2], [5], [9, 10], [500, 501], [2000]]


def test_no_quiet_spell_is_skipped_when_the_gap_is_allowed() -> None:
    seconds = np.array([0, 30], dtype=np.int64) * 1_000_000
    bounds = list(batch_bounds(seconds, step_us=10_000_000, max_gap_us=60_000_000))
    assert [j - i for i, j in bounds] == [1, 0, 0, 1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--speed", "0"], "--speed, --max-gap and --tick must be positive"),
        (["--tick", "-1"], "--speed, --max-gap and --tick must be positive"),
    ],
)
def test_bad_options_are_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["demo", *args]) == 1
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0
    assert message in error


def test_a_directory_in_use_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "something").write_text("kept")
    assert run(["demo", "--dir", str(tmp_path)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "something").read_text() == "kept"


@pytest.mark.slow
def test_the_demo_runs_the_april_2016_drill_to_its_end(tmp_path: Path) -> None:
    desks = tmp_path / "desks"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "parley",
            "demo",
            "--until-end",
            "--quiet",
            "--speed",
            "600",
            "--dir",
            str(desks),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = done.stdout
    assert "parley demo: as the record says" in summary
    for pair in ("sim:ddg75 / sim:su24-1", "sim:ddg75 / sim:ka27", "sim:rc135 / sim:su27"):
        assert pair in summary
    assert "6 notified, 6 acknowledged, 6 answered" in summary
    # the desks' records stand on their own afterwards: both logs verify on both nodes, and the
    # NATO desk holds Russia's account beside its own for every incident
    for party in ("nato", "russia"):
        verified = subprocess.run(
            [sys.executable, "-m", "parley", "hotline", "verify", str(desks / party), "--json"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "parley", "incident", "list", str(desks / "nato"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    incidents = json.loads(listed.stdout)
    assert sorted(i["severity"] for i in incidents) == ["high-risk"] * 3 + ["serious"] * 3
    assert {i["state"] for i in incidents} == {"clarified"}


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_stopping_the_demo_stops_both_desks_and_leaves_nothing(stop: signal.Signals) -> None:
    """Without --until-end the desks stay up after the replay; Ctrl-C (or a service manager's
    SIGTERM) then ends the run with its summary, and its temporary directory is gone."""
    before = set(Path(tempfile.gettempdir()).glob("parley-demo-*"))
    demo = subprocess.Popen(
        [sys.executable, "-m", "parley", "demo", "--speed", "900"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # a test runner may start children with SIGINT ignored; the demo's user never does
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert demo.stdout is not None
    for line in demo.stdout:
        if "the desks stay up until Ctrl-C" in line:
            break
    demo.send_signal(stop)
    rest, _ = demo.communicate(timeout=300)
    assert demo.returncode == 0, rest[-3000:]
    assert "parley demo: as the record says" in rest
    assert set(Path(tempfile.gettempdir()).glob("parley-demo-*")) == before
