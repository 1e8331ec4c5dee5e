"""Configuration the intake reads on every delivery, kept per process.

A delivery needs the severity levels (to map its alerts' words) and, for a new
alert, the catalog services that name alert labels. Both change rarely (an
admin edit) and are read on every delivery of a storm, so each process keeps
them, tagged with a generation stamp kept in the shared cache (Redis): one
``GET`` of the stamp per delivery, instead of a database query per lookup.

A committed change of a ``SeverityLevel``, ``Service`` or ``Team`` sets a new
stamp (``transaction.on_commit``), so every process reloads at its next
delivery; the process that changed it stops caching from the change until that
commit (a rolled-back change never leaves its rows behind). Without a Redis
cache (SQLite development, tests on the local-memory cache), or when Redis
does not answer, nothing is cached and every lookup reads the database. A
process also reloads after ``MAX_AGE`` seconds whatever the stamp says.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from incidents.ingestion.sharedcache import redis_client

logger = logging.getLogger(__name__)

STAMP_KEY = "intake-config-stamp"
MAX_AGE = 300.0  # seconds


_lock = threading.Lock()
_state: dict = {"stamp": None, "loaded_at": 0.0, "values": {}, "suspended": 0}


def _stamp() -> str | None:
    """The shared stamp (``"-"`` when none was ever set), or None when there
    is no Redis cache or it does not answer (then nothing is cached)."""
    client = redis_client()
    if client is None:
        return None
    try:
        value = client.get(cache.make_and_validate_key(STAMP_KEY))
    except Exception:  # noqa: BLE001 - Redis down: read the database instead
        logger.warning("Intake config stamp unreadable; not caching.", exc_info=True)
        return None
    return value.decode() if isinstance(value, bytes) else (value or "-")


def cached[T](name: str, load: Callable[[], T]) -> T:
    """``load()``'s answer for ``name``, from this process's copy when the
    shared stamp has not moved since it was loaded (and it is younger than
    ``MAX_AGE``); otherwise loaded again. The answer is shared between
    requests and threads: callers must not change it."""
    stamp = _stamp()
    if stamp is None or _state["suspended"]:
        return load()
    now = time.monotonic()
    with _lock:
        if _state["stamp"] != stamp or now - _state["loaded_at"] > MAX_AGE:
            _state.update(stamp=stamp, loaded_at=now, values={})
        values = _state["values"]
        if name in values:
            return values[name]
    value = load()
    with _lock:
        if _state["stamp"] == stamp and not _state["suspended"]:
            _state["values"][name] = value
    return value


def forget() -> None:
    """Drop this process's copy (tests; a change, see ``config_changed``)."""
    with _lock:
        _state.update(stamp=None, loaded_at=0.0, values={})


def config_changed(**kwargs) -> None:
    """Receiver for saves and deletes of the cached models: stop caching in
    this process until the change commits, then set a new shared stamp so
    every process reloads."""
    with _lock:
        _state["suspended"] += 1
    forget()

    def committed() -> None:
        with _lock:
            _state["suspended"] -= 1
        forget()
        client = redis_client()
        try:
            if client is not None:
                client.set(cache.make_and_validate_key(STAMP_KEY), uuid.uuid4().hex)
        except Exception:  # noqa: BLE001 - the age limit catches up
            logger.warning("Intake config stamp not moved.", exc_info=True)

    transaction.on_commit(committed)


def connect() -> None:
    """Connect ``config_changed`` to the models whose rows are cached (called
    from the app's ``ready``)."""
    from incidents.models import Service, SeverityLevel, Team

    for model in (SeverityLevel, Service, Team):
        for signal in (post_save, post_delete):
            signal.connect(
                config_changed,
                sender=model,
                dispatch_uid=f"intake-config-{signal is post_save}-{model.__name__}",
            )
