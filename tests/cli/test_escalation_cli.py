"""``parley hotline escalate`` and ``parley roster check`` from the command line."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parley.cli.main import run

#: Nothing listens there: the test never reaches the peer.
PEER_URL = "http://127.0.0.1:9"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = run(list(args))
    return code, capsys.readouterr().out


def test_escalate_fires_each_due_step_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nato, russia = str(tmp_path / "nato"), str(tmp_path / "russia")
    for directory, party in ((nato, "nato"), (russia, "russia")):
        assert _run(capsys, "node", "init", directory, "--party", party)[0] == 0
        identity = _run(capsys, "node", "identity", directory)[1]
        (tmp_path / f"{party}.json").write_text(identity)
    assert (
        _run(capsys, "node", "trust", nato, str(tmp_path / "russia.json"), "--url", PEER_URL)[0]
        == 0
    )
    code, out = _run(capsys, "hotline", "send", nato, "-t", "test", "-f", "sequence=1", "--json")
    msg_id = json.loads(out)["msg_id"]
    later = (datetime.now(UTC) + timedelta(seconds=125)).isoformat()  # default deadline 120 s
    code, out = _run(capsys, "hotline", "escalate", nato, "--now", later, "--json")
    assert code == 0
    (fired,) = json.loads(out)
    assert (fired["kind"], fired["msg_id"], fired["track"], fired["level"]) == (
        "escalation",
        msg_id,
        "delivery",
        "duty-officer",
    )
    assert _run(capsys, "hotline", "escalate", nato, "--now", later) == (0, "nothing due\n")
    assert run(["hotline", "escalate", nato, "--now", "yesterday"]) == 1
    assert "--now 'yesterday': not an ISO 8601 time" in capsys.readouterr().err


ROSTER = """
[[shift]]
name = "day"
daily = "08:00"
[[shift.officer]]
name = "Lt Smith"
role = "duty-officer"
languages = ["en"]
"""


def test_roster_check_reports_problems_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["roster", "check", str(tmp_path)]) == 1
    assert "roster.toml: no such file" in capsys.readouterr().err
    (tmp_path / "roster.toml").write_text(ROSTER)
    code, out = _run(
        capsys, "roster", "check", str(tmp_path), "--start", "2026-12-01", "--days", "1", "--json"
    )
    assert code == 1
    assert [(p["kind"], p["start"]) for p in json.loads(out)] == [
        ("gap", "2026-12-01T00:00:00+00:00"),
        ("no-bilingual-officer", "2026-12-01T08:00:00+00:00"),
        ("gap", "2026-12-01T16:00:00+00:00"),
    ]
    (tmp_path / "roster.toml").write_text(
        ROSTER.replace('["en"]', '["en", "ru"]').replace(
            'daily = "08:00"', 'daily = "00:00"\nhours = 24'
        )
    )
    code, out = _run(capsys, "roster", "check", str(tmp_path), "--start", "2026-12-01")
    assert (code, out) == (0, "ok: 7 days from 2026-12-01\n")
