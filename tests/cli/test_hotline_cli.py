"""The hotline from the command line: two nodes, a bundle each way, verify, tampering caught."""

import json
import sqlite3
from pathlib import Path

import pytest

from parley.cli.main import run


def _ok(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = run(list(args))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def _fails(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert run(list(args)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("parley: error: ")
    return err


@pytest.fixture
def nodes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    nato, russia = str(tmp_path / "nato"), str(tmp_path / "russia")
    for directory, party in ((nato, "nato"), (russia, "russia")):
        assert "fingerprint" in _ok(capsys, "node", "init", directory, "--party", party)
        (tmp_path / f"{party}.json").write_text(_ok(capsys, "node", "identity", directory))
    russia_fingerprint = json.loads((tmp_path / "russia.json").read_text())["fingerprint"]
    out = _ok(capsys, "node", "trust", nato, str(tmp_path / "russia.json"), "--url", "https://r")
    assert russia_fingerprint in out
    _ok(capsys, "node", "trust", russia, str(tmp_path / "nato.json"), "--url", "https://n")
    return nato, russia


def test_the_story_end_to_end(
    nodes: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nato, russia = nodes
    sent = json.loads(
        _ok(
            capsys, "hotline", "send", nato, "--template", "test", "--field", "sequence=1", "--json"
        )
    )
    msg_id = sent["msg_id"]
    bundle = str(tmp_path / "to-russia.bundle")
    assert "2 entries from seq 0" in _ok(capsys, "hotline", "export", nato, "-o", bundle)
    assert "2 new entries" in _ok(capsys, "hotline", "import", russia, bundle)
    inbox = json.loads(_ok(capsys, "hotline", "inbox", russia, "--json"))
    assert [(m["msg_id"], m["state"]) for m in inbox] == [(msg_id, "received")]
    assert msg_id in _ok(capsys, "hotline", "inbox", russia)
    ack = json.loads(_ok(capsys, "hotline", "ack", russia, msg_id, "--json"))
    assert ack["acknowledges"] == msg_id
    back = str(tmp_path / "to-nato.bundle")
    _ok(capsys, "hotline", "export", russia, "-o", back)
    assert "our entries delivered: 2" in _ok(capsys, "hotline", "import", nato, back)
    log = json.loads(_ok(capsys, "hotline", "log", nato, "--json"))
    mine = next(m for m in log["own"] if m["msg_id"] == msg_id)
    assert mine["states"] == ["recorded", "delivered", "acknowledged"]
    assert [m["type"] for m in log["peer"]] == ["catalogue", "ack"]
    assert "delivered" in _ok(capsys, "hotline", "log", nato)
    for directory in (nato, russia):
        report = json.loads(_ok(capsys, "hotline", "verify", directory, "--json"))
        assert report["ok"]
        assert sorted(report["sizes"].values()) == [2, 2]


@pytest.mark.parametrize("holder", ["nato", "russia"])
def test_verify_fails_on_an_entry_altered_in_either_database(
    nodes: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], holder: str
) -> None:
    nato, russia = nodes
    _ok(capsys, "hotline", "send", nato, "-t", "6", "-f", "sequence=41")
    _ok(capsys, "hotline", "export", nato, "-o", str(tmp_path / "b"))
    _ok(capsys, "hotline", "import", russia, str(tmp_path / "b"))
    directory = nato if holder == "nato" else russia
    assert "ok" in _ok(capsys, "hotline", "verify", directory)
    with sqlite3.connect(Path(directory) / "node.db") as connection:
        (raw,) = connection.execute(
            "SELECT raw FROM entries WHERE log_id LIKE 'parley/nato/%' AND seq = 1"
        ).fetchone()
        connection.execute(
            "UPDATE entries SET raw = ? WHERE log_id LIKE 'parley/nato/%' AND seq = 1",
            (raw.replace(b'"sequence":"41"', b'"sequence":"42"'),),
        )
    connection.close()
    assert run(["hotline", "verify", directory]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM nato's log: seq 1: bad signature" in out, out


def test_user_errors_are_one_line(
    nodes: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nato, russia = nodes
    assert "missing field 'sequence'" in _fails(capsys, "hotline", "send", nato, "-t", "6")
    assert "expected name=value" in _fails(
        capsys, "hotline", "send", nato, "-t", "6", "-f", "sequence"
    )
    assert "no such file" in _fails(capsys, "hotline", "inbox", str(tmp_path / "none"))
    assert "already a node" in _fails(capsys, "node", "init", nato, "--party", "nato")
    assert "not a message in nato's log" in _fails(
        capsys, "hotline", "ack", russia, "01HZZZZZZZZZZZZZZZZZZZZZZZ"
    )
    (tmp_path / "junk").write_text("hello")
    assert "not a hotline bundle" in _fails(
        capsys, "hotline", "import", russia, str(tmp_path / "junk")
    )
