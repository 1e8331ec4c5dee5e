"""Reading configuration from the environment.

Every setting that comes from the environment is read through the ``env`` object
below (django-environ), so the names and their parsing live in one place. Nothing
here touches the disk or the network.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()


def secret_key(*, debug: bool) -> str:
    """Return ``SECRET_KEY``; refuse to start without one unless ``DEBUG`` is on."""
    value = env.str("SECRET_KEY", default="")
    if value:
        return value
    if debug:
        # A fixed key is fine for a local, DEBUG-only install: nothing it signs
        # leaves the developer's machine.
        return "insecure-local-development-key-do-not-use-in-production"
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long "
        "random string (for example: python -c 'import secrets; "
        "print(secrets.token_urlsafe(50))'), or set DEBUG=true for local development."
    )


def database(default_sqlite: Path) -> dict:
    """``DATABASE_URL`` as a Django database dict; SQLite under ``var/`` by default."""
    config = env.db_url("DATABASE_URL", default=f"sqlite:///{default_sqlite}")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL and immediate transactions let the web server, the worker and beat
        # share the file without "database is locked" errors.
        config.setdefault("OPTIONS", {}).update(
            {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            }
        )
    else:
        config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
        config["CONN_HEALTH_CHECKS"] = True
    return config
