"""Start a real Celery worker process against the test database.

The worker runs ``tests.settings`` with ``DATABASE_URL`` pointing at the database
the test is using, so it sees committed rows (use ``transactional_db``).
"""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    """The URL of the database this test process is using right now."""
    s = connection.settings_dict
    if s["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or ""
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


@dataclass(frozen=True)
class OwnBroker:
    """A worker test's broker: its Redis database, and a key prefix no other
    test (in this process, another process or another run) shares."""

    redis_url: str
    keyprefix: str


@contextmanager
def own_broker() -> Iterator[OwnBroker]:
    """Point this process's Celery app at ``REDIS_URL`` with a fresh key prefix
    for the block (a worker started with it shares the prefix): what the test
    publishes reaches only its own worker, and no earlier test's messages (a
    killed worker's unacknowledged ones included) reach it."""
    from incidentops.celery import app as celery_app
    from tests.notifications.conftest import broker

    redis_url = os.environ["REDIS_URL"]
    keyprefix = f"test-{uuid.uuid4().hex}:"
    options = {
        **celery_app.conf.broker_transport_options,
        "global_keyprefix": keyprefix,
    }
    with broker(redis_url, options):
        yield OwnBroker(redis_url=redis_url, keyprefix=keyprefix)
        celery_app.control.purge()


@contextmanager
def celery_worker(
    *,
    redis_url: str | None = None,
    broker_dir: Path | None = None,
    own: OwnBroker | None = None,
    beat: bool = False,
    pool: str = "solo",
    log: Path,
) -> Iterator[subprocess.Popen]:
    """Run ``celery worker`` until the block ends, then stop it (TERM, then KILL).
    ``own``: the test's ``own_broker()``; ``beat``: also run beat in the
    worker (its schedule in memory, as in production)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": test_database_url(),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL", None)
    if own:
        redis_url = own.redis_url
        env["CELERY_BROKER_KEYPREFIX"] = own.keyprefix
    if redis_url:
        env["REDIS_URL"] = redis_url
    if broker_dir:
        env["CELERY_BROKER_DIR"] = str(broker_dir)
    command = [
        sys.executable, "-m", "celery", "--app", "incidentops", "worker",
        "--loglevel", "INFO", "--concurrency", "1", "--pool", pool,
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    if beat:
        command.append("--beat")
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.2):
    """Poll ``predicate`` until it returns a truthy value or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def other_connections() -> int:
    """How many other sessions are connected to this test's PostgreSQL
    database (a killed worker's session lingers until the server notices)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]
