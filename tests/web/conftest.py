"""Fixtures of the web tests: a user of a role, signed in on a test client."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from parley.hotline.users import Role
from parley.web.state import NodeState

TEST_PASSWORD = "correct horse battery"


def signed_in(client: TestClient, name: str = "officer", role: Role = Role.DUTY_OFFICER) -> str:
    """Create the user (once) and make every later request of ``client`` carry its session."""
    state = client.app.state.parley  # type: ignore[attr-defined]
    assert isinstance(state, NodeState)
    if name not in {user.name for user in state.users.users()}:
        state.users.add_user(name, role, TEST_PASSWORD)
    answer = client.post("/api/v1/session", json={"name": name, "password": TEST_PASSWORD})
    assert answer.status_code == 200, answer.text
    token = str(answer.json()["token"])
    client.cookies.clear()
    client.headers["Authorization"] = f"Bearer {token}"
    return token


SignIn = Callable[..., str]


@pytest.fixture
def sign_in() -> SignIn:
    """:func:`signed_in`: ``sign_in(client, name, role)`` signs a new user in on ``client``."""
    return signed_in
