"""``parley activity``: add, list, show, notify, observe, with --json, and one-line errors."""

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from activity_files import carry, exercise, write_json

from parley.activities.files import read_activity_file
from parley.activities.policy import ActivityPolicy, load_activity_policy
from parley.activities.thresholds import assess
from parley.cli.main import run
from parley.hotline.node import load_node


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    assert run([*args, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_add_list_show_notify_and_the_peer_sees_it(
    paired: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nato, russia = paired
    path = write_json(
        tmp_path / "ex.json", [exercise(), exercise(id="small", declared={"troops": 8_000})]
    )
    added = _json(capsys, "activity", "add", str(nato), str(path))
    assert [(a["id"], a["created"], a["party"]) for a in added] == [
        ("baltops-27", True, "nato"),
        ("small", True, "nato"),
    ]
    assert added[0]["assessment"]["flags"] == ["notifiable", "not-notified"]
    assert added[1]["assessment"]["flags"] == []

    notified = _json(capsys, "activity", "notify", str(nato), "baltops-27")
    assert notified["notified_at"] is not None
    assert len(notified["msg_id"]) == 26
    assert notified["assessment"]["flags"] == ["notifiable"]  # decades ahead: on time

    with load_node(nato) as sender, load_node(russia) as receiver:
        carry(sender, receiver, tmp_path)
    listed = _json(capsys, "activity", "list", str(russia))
    assert [(a["origin"], a["id"], a["party"]) for a in listed] == [("peer", "baltops-27", "nato")]
    peer = listed[0]
    assert peer["declared"] == {
        "troops": 10_000,
        "battle_tanks": 40,
        "armoured_combat_vehicles": None,
        "artillery_pieces": None,
        "aircraft_sorties": None,
        "ships": 45,
    }
    assert peer["area"] == exercise()["area"]
    assert (peer["start"], peer["end"]) == ("2099-06-01T06:00:00Z", "2099-06-14T18:00:00Z")
    assert peer["msg_id"] == notified["msg_id"]
    assert peer["notified_at"] == notified["notified_at"]

    observed = _json(capsys, "activity", "observe", str(russia), "baltops-27", "--troops", "14000")
    assert observed["observed"]["troops"] == 14_000
    assert observed["assessment"]["flags"] == [
        "notifiable",
        "observed-above-observation-threshold",
    ]
    shown = _json(capsys, "activity", "show", str(russia), "baltops-27")
    assert (shown["observed"]["troops"], shown["declared"]["troops"]) == (14_000, 10_000)

    assert run(["activity", "show", str(russia), "baltops-27"]) == 0
    text = capsys.readouterr().out
    assert "declared: troops 10,000, battle_tanks 40, ships 45" in text
    assert "observed: troops 14,000" in text


def test_geojson_out_reads_back_in(
    paired: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nato, russia = paired
    assert (
        run(["activity", "add", str(nato), str(write_json(tmp_path / "a.json", exercise()))]) == 0
    )
    capsys.readouterr()
    assert run(["activity", "list", str(nato), "--geojson"]) == 0
    collection = json.loads(capsys.readouterr().out)
    assert collection["type"] == "FeatureCollection"
    assert collection["features"][0]["geometry"] == exercise()["area"]
    assert collection["features"][0]["properties"]["assessment"]["notifiable"] is True
    again = _json(
        capsys, "activity", "add", str(russia), str(write_json(tmp_path / "b.geojson", collection))
    )
    assert [(a["id"], a["party"], a["declared"]["troops"]) for a in again] == [
        ("baltops-27", "russia", 10_000)
    ]


def test_toml_activity_file(
    paired: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "snap.toml"
    path.write_text(
        '[[activities]]\nkind = "exercise"\nnotice = "snap"\n'
        "start = 2099-03-01T00:00:00Z\nend = 2099-03-03T00:00:00Z\n"
        "declared = { troops = 30000 }\n"
        'area = { type = "Polygon", coordinates = [[[20, 54], [22, 54], [21, 55], [20, 54]]] }\n',
        encoding="utf-8",
    )
    added = _json(capsys, "activity", "add", str(paired[1]), str(path))
    assert added[0]["id"].startswith("act-")
    assert len(added[0]["id"]) == 16
    assert added[0]["notice"] == "snap"
    assert added[0]["assessment"]["due"] == "2099-03-01T00:00:00Z"
    assert added[0]["assessment"]["flags"] == ["notifiable", "observation-required", "not-notified"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (exercise(kind="parade"), "activity.kind: 'parade' is not one of exercise, flight"),
        (exercise(end="2099-05-01T00:00:00Z"), "activity.end: must be after start"),
        (
            exercise(start="2099-06-01T06:00:00"),
            "activity.start: '2099-06-01T06:00:00' has no time zone",
        ),
        (exercise(declared={"tanks": 3}), "activity.declared.tanks: unknown figure"),
        (exercise(declared={"troops": -5}), "activity.declared.troops: -5 is not a whole number"),
        (exercise(colour="red"), "activity.colour: unknown field"),
        (exercise(id="bad id"), "activity.id: 'bad id' is not an activity id"),
        (exercise(area={"type": "Point", "coordinates": [1, 2]}), "activity.area: type 'Point'"),
    ],
)
def test_bad_files_are_one_line_naming_the_field(
    paired: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    data: dict[str, Any],
    message: str,
) -> None:
    path = write_json(tmp_path / "bad.json", data)
    assert run(["activity", "add", str(paired[0]), str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("parley: error: ")
    assert f"{path}: {message}" in err


def test_unknown_ids_and_refused_changes(
    paired: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nato = paired[0]
    assert run(["activity", "show", str(nato), "nope"]) == 1
    assert "no activity 'nope'" in capsys.readouterr().err
    assert run(["activity", "observe", str(nato), "nope"]) == 1
    assert "give at least one observed figure" in capsys.readouterr().err
    path = write_json(tmp_path / "a.json", exercise())
    assert run(["activity", "add", str(nato), str(path)]) == 0
    assert run(["activity", "notify", str(nato), "baltops-27"]) == 0
    capsys.readouterr()
    assert run(["activity", "add", str(nato), str(path)]) == 1
    assert "baltops-27 was notified at" in capsys.readouterr().err
    assert run(["activity", "list", str(nato), "--origin", "theirs"]) == 1
    assert "--origin 'theirs': expected own or peer" in capsys.readouterr().err


def test_late_notification_shown_in_days(
    paired: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Starting in 29 days with 10,000 troops: notified now, 13 days late."""
    nato = paired[0]
    with load_node(nato) as node:
        now = node.clock()
    start = now.replace(microsecond=0) + timedelta(days=29)
    end = start + timedelta(days=3)
    data = exercise(start=start.isoformat(), end=end.isoformat())
    assert run(["activity", "add", str(nato), str(write_json(tmp_path / "a.json", data))]) == 0
    assert run(["activity", "notify", str(nato), "baltops-27"]) == 0
    assert "days late" in capsys.readouterr().out.splitlines()[-1]
    shown = _json(capsys, "activity", "show", str(nato), "baltops-27")
    assert shown["assessment"]["late"] is True
    assert shown["assessment"]["days_late"] == 13


def test_the_documented_examples_are_valid(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "activities.md").read_text("utf-8")
    json_example = text.split("```json\n", 1)[1].split("```", 1)[0]
    toml_example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    from_json = read_activity_file(write_text(tmp_path / "a.json", json_example), party="nato")
    from_toml = read_activity_file(write_text(tmp_path / "a.toml", toml_example), party="nato")
    assert [a.id for a in from_json + from_toml] == ["baltops-27", "baltops-27"]
    assert from_json[0].area == from_toml[0].area
    assert from_json[0].declared.troops == 8_900
    assert assess(from_json[0]).flags == ()  # 8,900 troops: just under the threshold
    policy_example = text.split("```toml\n", 2)[2].split("```", 1)[0]
    policy = load_activity_policy(write_text(tmp_path / "policy.toml", policy_example))
    assert policy == ActivityPolicy()


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
