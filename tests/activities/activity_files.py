"""Helpers of the activity tests: an activity file's object, writing it, carrying a log."""

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from parley.hotline.node import Node
from parley.hotline.users import Role

PASSWORD = "correct horse battery"

BALTIC_SQUARE = {
    "type": "Polygon",
    "coordinates": [[[14.0, 54.5], [16.5, 54.5], [16.5, 55.6], [14.0, 55.6], [14.0, 54.5]]],
}


def exercise(**changes: Any) -> dict[str, Any]:
    """An activity file's object: a planned exercise far in the future, 10,000 troops."""
    return {
        "id": "baltops-27",
        "name": "BALTOPS 2027",
        "kind": "exercise",
        "notice": "planned",
        "start": "2099-06-01T06:00:00Z",
        "end": "2099-06-14T18:00:00Z",
        "area": BALTIC_SQUARE,
        "declared": {"troops": 10_000, "battle_tanks": 40, "ships": 45},
        **changes,
    }


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def carry(sender: Node, receiver: Node, tmp_path: Path) -> None:
    """Carry the sender's new entries to the receiver by signed bundle."""
    bundle = tmp_path / "carry.bundle"
    sender.export_bundle(bundle)
    receiver.import_bundle(bundle)


def sign_in(client: TestClient, name: str = "officer", role: Role = Role.DUTY_OFFICER) -> None:
    """Create the user (once) and make every later request of ``client`` carry its session
    (as ``tests/web/conftest.py`` does)."""
    state = client.app.state.parley  # type: ignore[attr-defined]
    if name not in {user.name for user in state.users.users()}:
        state.users.add_user(name, role, PASSWORD)
    answer = client.post("/api/v1/session", json={"name": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    client.cookies.clear()
    client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
