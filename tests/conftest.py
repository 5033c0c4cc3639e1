"""Shared fixtures: where the test data lives."""

import os
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
TEST_DATA = TESTS / "data"
REPO = TESTS.parent
SHARED_DATA = Path(os.environ.get("PARLEY_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def test_data() -> Path:
    """The small real samples shipped with the repository."""
    return TEST_DATA


@pytest.fixture
def shared_data() -> Path:
    """The full recorded data set beside the repository; skipped when it is not there."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set PARLEY_SHARED_DATA)")
    return SHARED_DATA
