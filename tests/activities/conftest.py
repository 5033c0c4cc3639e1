"""Two paired nodes (nato and russia) for the activity tests."""

from pathlib import Path

import pytest

from parley.hotline.node import init_node


@pytest.fixture
def paired(tmp_path: Path) -> tuple[Path, Path]:
    """The directories of two paired nodes, nato's and russia's (both closed)."""
    nato, russia = init_node(tmp_path / "nato", "nato"), init_node(tmp_path / "russia", "russia")
    nato.trust(russia.identity_json(), "http://russia.invalid")
    russia.trust(nato.identity_json(), "http://nato.invalid")
    nato.close()
    russia.close()
    return tmp_path / "nato", tmp_path / "russia"
