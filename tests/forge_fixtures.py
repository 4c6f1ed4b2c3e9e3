"""Pytest fixtures for the test forge. In a test module:

from forge_fixtures import forge_fixture  # noqa: F401  (provides the `forge` fixture)

def test_sticky_comment(forge): ...
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from forge_server import ForgeServer


@pytest.fixture(name="forge")
def forge_fixture() -> Iterator[ForgeServer]:
    """A running forge, empty: seed it with add_user / add_repo / add_project."""
    with ForgeServer() as server:
        yield server


@pytest.fixture(name="ghes_forge")
def ghes_forge_fixture() -> Iterator[ForgeServer]:
    """The same, with GitHub under /api/v3 as on GitHub Enterprise Server."""
    with ForgeServer(github_prefix="/api/v3") as server:
        yield server
