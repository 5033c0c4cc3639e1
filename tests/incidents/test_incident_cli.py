"""``parley incident``: the registry from the command line, the logs carried by bundle between two
node directories, replies linked with ``parley hotline send --reply-to``."""

import json
from pathlib import Path
from typing import Any

import pytest

from parley.cli.main import run
from parley.hotline.node import Node

Capture = pytest.CaptureFixture[str]


def _json(capsys: Capture, *argv: str) -> Any:
    capsys.readouterr()
    assert run([*argv, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def _text(capsys: Capture, *argv: str) -> str:
    capsys.readouterr()
    assert run(list(argv)) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def _error(capsys: Capture, *argv: str) -> str:
    capsys.readouterr()
    assert run(list(argv)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def _bundle(capsys: Capture, source: Path, target: Path, folder: Path) -> None:
    path = folder / f"{len(list(folder.glob('*.bundle')))}.bundle"
    _text(capsys, "hotline", "export", str(source), "-o", str(path))
    _text(capsys, "hotline", "import", str(target), str(path))


@pytest.fixture
def detect_json(tmp_path: Path, april_csv: Path) -> Path:
    out = tmp_path / "detect.json"
    assert run(["detect", str(april_csv), "--evidence", "--quiet", "-o", str(out)]) == 0
    return out


def test_the_exchange_from_the_command_line(
    nodes: tuple[Node, Node], detect_json: Path, tmp_path: Path, capsys: Capture
) -> None:
    nato, russia = (str(node.directory) for node in nodes)
    for node in nodes:
        node.close()  # the commands open the directories themselves
    opened = _json(capsys, "incident", "ingest", nato, str(detect_json), "--by", "ivanova")
    assert len(opened["opened"]) == 6
    high = _json(capsys, "incident", "list", nato, "--class", "high-risk")
    assert len(high) == 3
    roll = next(i for i in high if i["their_track"] == "sim:su27")
    table = _text(capsys, "incident", "list", nato)
    assert roll["id"] in table
    assert "6 incidents" in table

    sent = _json(capsys, "incident", "notify", nato, roll["id"], "--by", "ivanova")
    assert sent["incident"]["state"] == "notified"
    _bundle(capsys, Path(nato), Path(russia), tmp_path)
    there = _json(capsys, "incident", "list", russia)
    assert [(i["id"], i["state"], i["origin"]) for i in there] == [(roll["id"], "notified", "peer")]
    _text(capsys, "hotline", "ack", russia, sent["msg_id"])
    assert _json(capsys, "incident", "show", russia, roll["id"])["incident"]["state"] == (
        "acknowledged"
    )
    answer = _json(
        capsys,
        "incident", "account", russia, roll["id"],
        "--class", "routine",
        "--text", "An unknown object heading at high speed towards the Russian border.",
        "--nature", "facts-disputed",
        "--send", "--by", "petrov",
    )  # fmt: skip
    assert len(answer["sent"]) == 2
    assert answer["accounts"]["ours"]["recorded_by"] == "petrov"
    _bundle(capsys, Path(russia), Path(nato), tmp_path)

    detail = _json(capsys, "incident", "show", nato, roll["id"])
    assert detail["incident"]["state"] == "clarified"
    assert detail["accounts"]["ours"]["classification"] == "high-risk"
    assert detail["accounts"]["theirs"]["classification"] == "routine"
    assert detail["accounts"]["theirs"]["nature"] == "facts-disputed"
    shown = _text(capsys, "incident", "show", nato, roll["id"])
    assert "[high-risk]" in shown
    assert "[routine, facts-disputed]" in shown

    # a question, and a reply sent with the plain hotline command joins the incident by its link
    asked = _json(
        capsys, "incident", "ask", nato, roll["id"], "--question", "Was the transponder off?"
    )
    _bundle(capsys, Path(nato), Path(russia), tmp_path)
    _text(
        capsys,
        "hotline", "send", russia,
        "--template", "clarification-reply",
        "--field", "answer=The aircraft flew with its transponder off.",
        "--field", "classification=routine-activity",
        "--reply-to", asked["msg_id"],
    )  # fmt: skip
    _bundle(capsys, Path(russia), Path(nato), tmp_path)
    detail = _json(capsys, "incident", "show", nato, roll["id"])
    assert [m["role"] for m in detail["messages"]][-2:] == ["request", "reply"]
    theirs = detail["accounts"]["theirs"]
    assert theirs["text"] == "The aircraft flew with its transponder off."
    assert (theirs["classification"], theirs["nature"]) == ("routine", "routine-activity")
    actions = [h["action"] for h in detail["history"]]
    assert "clarification-requested" in actions

    closed = _json(capsys, "incident", "close", nato, roll["id"], "--reason", "reviewed")
    assert closed["state"] == "closed"
    assert _json(capsys, "incident", "reopen", nato, roll["id"])["state"] == "clarified"
    closed_text = _text(capsys, "incident", "close", nato, roll["id"])
    assert closed_text.startswith(f"closed {roll['id']}: high-risk, closed")


def test_opening_by_hand(nodes: tuple[Node, Node], detect_json: Path, capsys: Capture) -> None:
    nato = str(nodes[0].directory)
    nodes[0].close()
    document = json.loads(detect_json.read_text())
    ka27 = next(e["id"] for e in document["encounters"] if e["b"] == "sim:ka27")
    opened = _json(
        capsys, "incident", "open", nato, "--from-detect", str(detect_json), "--encounter", ka27
    )
    assert (opened["origin"], opened["severity"], opened["encounter_ids"]) == (
        "hand",
        "serious",
        [ka27],
    )
    report = _json(
        capsys,
        "incident", "open", nato,
        "--our-track", "sim:ddg75", "--their-track", "sim:unknown-helicopter",
        "--time", "2016-04-12T15:00:00Z", "--class", "serious",
        "--lat", "55.3", "--lon", "18.9", "--summary", "seen by the bridge",
    )  # fmt: skip
    assert (report["cpa_time"], report["lat"], report["summary"]) == (
        "2016-04-12T15:00:00.000Z",
        55.3,
        "seen by the bridge",
    )
    assert "no incident 'inc-nope'" in _error(capsys, "incident", "show", nato, "inc-nope")
    assert "give --from-detect FILE" in _error(capsys, "incident", "open", nato)
    assert "no encounter enc-nope" in _error(
        capsys,
        "incident",
        "open",
        nato,
        "--from-detect",
        str(detect_json),
        "--encounter",
        "enc-nope",
    )
    missing = detect_json.with_name("missing.json")
    assert "cannot read" in _error(capsys, "incident", "ingest", nato, str(missing))
    assert "class 'severe'" in _error(
        capsys,
        "incident", "open", nato,
        "--our-track", "a", "--their-track", "b", "--time", "2016-04-12T15:00:00Z",
        "--class", "severe",
    )  # fmt: skip
    assert "no message of the other party to reply to" in _error(
        capsys, "incident", "ask", nato, report["id"], "--question", "?"
    )
