"""Shared fixtures and the service markers.

``redis`` tests run whenever ``REDIS_URL`` is set and ``postgres`` tests whenever
``DATABASE_URL`` points at PostgreSQL; otherwise they are skipped, unless
``REQUIRE_SERVICES=1``, which turns a missing service into a failure.
"""

import os
import shutil

import pytest

from incidentops import groups
from incidentops.env import VAR_DIR
from incidents import services
from tests.factories import UserFactory, role

# Browser fixtures (one Chromium for every app's journeys).
pytest_plugins = ["tests.browser_fixtures"]


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
    if item.get_closest_marker("alertmanager") and not shutil.which(
        "prometheus-alertmanager"
    ):
        return "needs prometheus-alertmanager on PATH"
    return None


def pytest_runtest_setup(item):
    reason = _missing_service(item)
    if reason:
        if _require_services():
            pytest.fail(f"REQUIRE_SERVICES=1 but this test {reason}", pytrace=False)
        pytest.skip(reason)


# People and an incident most suites start from (a suite may define its own).


@pytest.fixture
def responder(db):
    return UserFactory(username="rita", groups=[groups.RESPONDERS])


@pytest.fixture
def manager(db):
    return UserFactory(
        username="mia", groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS]
    )


@pytest.fixture
def bot(db):
    """A service account with every incident right a group can give."""
    return UserFactory(
        username="bot",
        service_account=True,
        groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS],
    )


@pytest.fixture
def incident(responder):
    return services.incident_declare(
        actor=responder,
        title="Checkout API returns 500 errors",
        description="Card payments fail for a share of customers.",
    )


@pytest.fixture
def commanded(incident, manager):
    services.incident_assign_role(
        incident=incident, actor=manager, role=role("commander"), user=manager
    )
    return incident


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def service_account(db):
    return UserFactory(service_account=True)


# --- Reference data after transactional tests --------------------------------
# A transactional test ends with a flush that empties every table, including the
# rows our data migrations created (groups' permissions, the severity framework,
# the built-in roles, default policies). pytest-django runs transactional tests
# last; before each of them we run our data migrations' forward code again. They
# are idempotent (get_or_create), so this restores exactly what migrate made.

OUR_APPS = ("incidentops", "incidents", "notifications", "reviews")


def rerun_data_migrations() -> None:
    from django.apps import apps as global_apps
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations.special import RunPython

    loader = MigrationLoader(connection, ignore_no_migrations=True)
    plan = [
        key
        for leaf in loader.graph.leaf_nodes()
        for key in loader.graph.forwards_plan(leaf)
    ]
    seen = set()
    with connection.schema_editor(atomic=True) as schema_editor:
        for key in plan:
            if key in seen or key[0] not in OUR_APPS:
                continue
            seen.add(key)
            for operation in loader.graph.nodes[key].operations:
                if isinstance(operation, RunPython):
                    operation.code(global_apps, schema_editor)


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(
        (marker and marker.kwargs.get("transaction"))
        or {"transactional_db", "live_server"} & set(request.fixturenames)
    )


@pytest.fixture(autouse=True)
def _reference_data_for_transactional_tests(request):
    if _is_transactional(request):
        request.getfixturevalue("transactional_db")
        rerun_data_migrations()
    yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (the in-memory one of the test
    settings): counts of failed credentials must not leak between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
