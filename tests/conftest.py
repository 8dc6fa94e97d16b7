"""Fixtures shared by the SNMP test modules."""

from __future__ import annotations

import pytest

from collectors.profile import Profile, load_profiles
from collectors.snmp import PysnmpClient


@pytest.fixture(scope="module")
def profiles() -> dict[str, Profile]:
    return load_profiles()


@pytest.fixture
async def client():
    """A fresh pysnmp client per test, its dispatcher closed after."""
    c = PysnmpClient()
    yield c
    await c.close()
