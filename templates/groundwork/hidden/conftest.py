"""For running these hidden tests outside ``dlpath check`` (dlpath's own test
suite): ``dlpath check`` gives every run a fresh ``dlpath_seed`` (from
``DLPATH_SEED``); here it is that variable when set, else 0."""

import os

import pytest


@pytest.fixture
def dlpath_seed() -> int:
    return int(os.environ.get("DLPATH_SEED") or 0)
