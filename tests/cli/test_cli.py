"""The CLI as a user meets it: one-line errors, JSON twins, every command documented."""

import json
from pathlib import Path

import pytest
import typer

from parley.cli.main import app, run

REPO = Path(__file__).resolve().parents[2]


def _command_paths(group: typer.Typer, prefix: str = "parley") -> list[str]:
    command = typer.main.get_command(group)
    paths: list[str] = []

    def walk(cmd: object, path: str) -> None:
        subcommands = getattr(cmd, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, f"{path} {name}")
        else:
            paths.append(path)

    walk(command, prefix)
    return paths


def test_every_command_is_documented() -> None:
    reference = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    paths = _command_paths(app)
    assert "parley detect" in paths
    assert "parley tracks info" in paths
    missing = [p for p in paths if f"`{p}`" not in reference]
    assert missing == []


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("parley: error: ")
    return err


def test_missing_file_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(["tracks", "info", str(tmp_path / "nope.csv")]) == 1
    assert "nope.csv: no such file" in _error(capsys)


def test_unknown_format_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(b"\x00\x01garbage")
    assert run(["tracks", "info", str(path)]) == 1
    assert "format not recognised" in _error(capsys)
    assert run(["tracks", "info", "--format", "klingon", str(path)]) == 1
    assert "unknown format 'klingon'" in _error(capsys)


def test_bad_option_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["detect", "--frobnicate", "x"]) == 2
    assert "No such option" in _error(capsys)


def test_invalid_policy_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, test_data: Path
) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text("[volumes]\nair_air_vertical_m = -3\n")
    sample = test_data / "canonical" / "malformed.csv"
    assert run(["detect", "--policy", str(policy), str(sample)]) == 1
    assert "p.toml: volumes.air_air_vertical_m" in _error(capsys)


def test_tracks_info_json(capsys: pytest.CaptureFixture[str], test_data: Path) -> None:
    assert run(["tracks", "info", "--json", str(test_data / "canonical" / "malformed.csv")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["tracks"] == 2
    assert summary["files"][0]["format"] == "csv"
    assert summary["rejected_by_rule"] == {"impossible_jump": 1, "malformed": 5}
    assert summary["duplicates_removed"] == 1
    assert set(summary["sides"]) == {"nato", "russia"}


def test_convert_round_trip(
    capsys: pytest.CaptureFixture[str], test_data: Path, tmp_path: Path
) -> None:
    source = test_data / "canonical" / "malformed.csv"
    for suffix in ("parquet", "csv"):
        out = tmp_path / f"out.{suffix}"
        assert run(["tracks", "convert", str(source), "-o", str(out)]) == 0
        capsys.readouterr()
        assert run(["tracks", "info", "--json", str(out)]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["positions"] == 7
        assert summary["rejected_rows"] == 0


def test_policy_show_round_trips(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(["policy", "show"]) == 0
    text = capsys.readouterr().out
    policy = tmp_path / "policy.toml"
    policy.write_text(text.replace("air_air_vertical_m = 304.8", "air_air_vertical_m = 300.0"))
    assert run(["policy", "show", "--json", "--policy", str(policy)]) == 0
    assert json.loads(capsys.readouterr().out)["volumes"]["air_air_vertical_m"] == 300.0


def test_strict_exits_non_zero(capsys: pytest.CaptureFixture[str], test_data: Path) -> None:
    assert run(["tracks", "info", "--strict", str(test_data / "canonical" / "malformed.csv")]) == 1
    assert "rejected under --strict" in _error(capsys)


def test_an_unexpected_error_is_still_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, test_data: Path
) -> None:
    import parley.cli.tracks

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(parley.cli.tracks, "load_tracks", broken)
    assert run(["tracks", "info", str(test_data / "canonical" / "malformed.csv")]) == 70
    assert "internal error: RuntimeError: boom" in _error(capsys)
