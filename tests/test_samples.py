"""The bundled demo samples are what the code builds, and the demo finds what incidents.md says."""

import importlib.util
import json
from pathlib import Path

import pytest

from parley.cli.main import run

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "src" / "parley" / "data" / "samples"


def _make_samples() -> object:
    spec = importlib.util.spec_from_file_location(
        "make_samples", REPO / "tools" / "make_samples.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bundled_april2016_is_what_the_builders_make(tmp_path: Path) -> None:
    out = tmp_path / "april2016.csv"
    _make_samples().write_sample(out)  # type: ignore[attr-defined]
    assert out.read_text() == (SAMPLES / "april2016.csv").read_text()


def test_demo_finds_the_april_encounters(capsys: pytest.CaptureFixture[str]) -> None:
    code = run(
        ["detect", "--json", str(SAMPLES / "april2016.csv"), str(SAMPLES / "bornholm.json.gz")]
    )
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    found = {(e["a"], e["b"], e["start"][:10]): e["severity"] for e in document["encounters"]}
    assert found == {
        ("sim:ddg75", "sim:su24-1", "2016-04-11"): "serious",
        ("sim:ddg75", "sim:su24-2", "2016-04-11"): "serious",
        ("sim:ddg75", "sim:ka27", "2016-04-12"): "serious",
        ("sim:ddg75", "sim:su24-1", "2016-04-12"): "high-risk",
        ("sim:ddg75", "sim:su24-2", "2016-04-12"): "high-risk",
        ("sim:rc135", "sim:su27", "2016-04-14"): "high-risk",
    }
    assert document["rejected_rows"] == 0
