"""Fixtures shared by the SNMP test modules, and the order the files run in."""

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


# The files that take minutes (measured: the soak 5 min, the rest 1-3 min each), first: with two workers
# (`make test`) a long file started last would run alone at the end.
LONG_FIRST = ("test_soak.py", "test_alerting_end_to_end.py", "test_end_to_end.py", "test_scale_out.py",
              "test_dashboards_live.py", "test_maintenance_cli.py", "test_traps.py", "test_report.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONG_FIRST)))  # stable: each file keeps its order
