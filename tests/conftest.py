"""Shared fixtures and the service markers.

``redis`` tests run whenever ``REDIS_URL`` is set and ``postgres`` tests whenever
``DATABASE_URL`` points at PostgreSQL; otherwise they are skipped, unless
``REQUIRE_SERVICES=1``, which turns a missing service into a failure.
"""

import os

import pytest

from incidentops.env import VAR_DIR
from tests.factories import UserFactory


def pytest_configure(config):
    # SQLite test databases and worker logs live under var/ (git-ignored).
    VAR_DIR.mkdir(exist_ok=True)


def _require_services() -> bool:
    return os.environ.get("REQUIRE_SERVICES", "") not in ("", "0", "false")


def _missing_service(item) -> str | None:
    if item.get_closest_marker("redis") and not os.environ.get("REDIS_URL"):
        return "needs Redis: set REDIS_URL"
    if item.get_closest_marker("postgres") and not os.environ.get(
        "DATABASE_URL", ""
    ).startswith(("postgres://", "postgresql://", "pgsql://")):
        return "needs PostgreSQL: set DATABASE_URL"
    return None


def pytest_runtest_setup(item):
    reason = _missing_service(item)
    if reason:
        if _require_services():
            pytest.fail(f"REQUIRE_SERVICES=1 but this test {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def service_account(db):
    return UserFactory(service_account=True)
