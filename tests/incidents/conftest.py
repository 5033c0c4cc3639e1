"""Fixtures of the incident tests: two paired nodes, bundles carried between them, and the
encounters of the bundled April 2016 sample."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import parley.data
from parley.encounters.detector import detect
from parley.encounters.output import to_json_document
from parley.encounters.policy import load_policy
from parley.hotline.node import Node, init_node, load_node
from parley.hotline.users import Role
from parley.incidents.evidence import records_with_episode_evidence
from parley.incidents.registry import IncidentRegistry
from parley.tracks.load import load_tracks
from parley.web.state import NodeState

PASSWORD = "correct horse battery"
APRIL_2016 = Path(parley.data.__file__).with_name("samples") / "april2016.csv"


@pytest.fixture(scope="session")
def april_detection() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``parley detect --json --evidence`` of april2016.csv, and its records with the positions of
    whole episodes (what the library path stores)."""
    tracks = load_tracks([APRIL_2016])
    policy = load_policy(None)
    detection = detect(tracks.table, policy)
    document = to_json_document(detection, policy, tracks.rejected_rows, tracks.table)
    return document, records_with_episode_evidence(detection, tracks.table)


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    """nato's and russia's nodes, paired (opened; closed after the test)."""
    nato = init_node(tmp_path / "nato", "nato")
    russia = init_node(tmp_path / "russia", "russia")
    nato.trust(russia.identity_json(), "http://russia.invalid")
    russia.trust(nato.identity_json(), "http://nato.invalid")
    yield nato, russia
    nato.close()
    russia.close()


Carry = Callable[[Path, Path], None]


@pytest.fixture
def carry(tmp_path: Path) -> Carry:
    """``carry(source_dir, target_dir)``: the source node's new entries to the target on a signed
    bundle (as on a USB stick), through ``parley hotline export`` and ``import``'s code."""
    folder = tmp_path / "bundles"
    folder.mkdir()

    def move(source: Path, target: Path) -> None:
        bundle = folder / f"{len(list(folder.iterdir()))}-{source.name}.bundle"
        with load_node(source) as sender:
            sender.export_bundle(bundle)
        with load_node(target) as receiver:
            receiver.import_bundle(bundle)

    return move


@pytest.fixture
def april_csv() -> Path:
    return APRIL_2016


SignIn = Callable[[TestClient, str, Role], str]


def signed_in(client: TestClient, name: str, role: Role) -> str:
    """Create the user and make every later request of ``client`` carry its session."""
    state = client.app.state.parley  # type: ignore[attr-defined]
    assert isinstance(state, NodeState)
    state.users.add_user(name, role, PASSWORD)
    answer = client.post("/api/v1/session", json={"name": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
    return str(answer.json()["token"])


@pytest.fixture
def sign_in() -> SignIn:
    return signed_in


@pytest.fixture
def registries(nodes: tuple[Node, Node]) -> tuple[IncidentRegistry, IncidentRegistry]:
    nato, russia = nodes
    return IncidentRegistry(nato), IncidentRegistry(russia)
