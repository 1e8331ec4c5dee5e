"""Fixtures for notifications: people, incidents made through the services, real
local SMTP/HTTP servers and a broker the test controls."""

from contextlib import contextmanager

import pytest
from kombu import pools as kombu_pools

from incidentops import groups
from incidentops.celery import app as celery_app
from incidents import services as incident_services
from tests.factories import UserFactory, role, severity
from tests.notifications import servers


@pytest.fixture
def responder(db):
    return UserFactory(username="rita", groups=[groups.RESPONDERS])


@pytest.fixture
def manager(db):
    return UserFactory(
        username="mia", groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS]
    )


@pytest.fixture
def comms(db):
    return UserFactory(username="carl", groups=[groups.RESPONDERS])


@pytest.fixture
def ann(db):
    """A responder escalation steps page first."""
    return UserFactory(username="ann", groups=[groups.RESPONDERS])


@pytest.fixture
def bob(db):
    """A responder escalation steps page next."""
    return UserFactory(username="bob", groups=[groups.RESPONDERS])


def declare(actor, **fields):
    fields.setdefault("title", "Checkout API returns 500 errors")
    fields.setdefault("impact", "Card payments fail for 20% of customers.")
    return incident_services.incident_declare(actor=actor, **fields)


def command(incident, manager):
    incident_services.incident_assign_role(
        incident=incident, actor=manager, role=role("commander"), user=manager
    )
    return incident


def confirm(incident, manager, code, **kwargs):
    return incident_services.incident_confirm_severity(
        incident=incident, actor=manager, severity=severity(code), **kwargs
    )


@pytest.fixture
def smtp_mailer(settings):
    """A real SMTP server on localhost, and the default mailer pointing at it."""

    @contextmanager
    def start(rcpt_replies=()):
        with servers.smtp_server(rcpt_replies) as recorder:
            settings.MAILERS = {
                "default": {
                    "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                    "OPTIONS": {
                        "host": "127.0.0.1",
                        "port": recorder.port,
                        "timeout": 5,
                    },
                }
            }
            yield recorder

    return start


def _reset_broker_pools() -> None:
    # Connections are pooled per broker URL; drop them all so the next publish
    # connects to the broker configured now.
    kombu_pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker(url: str, transport_options: dict | None = None):
    """Point the project's Celery app at ``url`` for the block (the settings are
    read once at start-up, so ``override_settings`` cannot do this)."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_transport_options
    _reset_broker_pools()
    conf.broker_url, conf.broker_transport_options = url, transport_options or {}
    try:
        yield
    finally:
        _reset_broker_pools()
        conf.broker_url, conf.broker_transport_options = saved


@pytest.fixture
def memory_broker():
    """Kombu's in-memory broker; returns a function that drains and lists the
    (task name, args) published so far."""

    def published() -> list[tuple[str, list]]:
        seen = []
        with celery_app.connection_for_write() as connection:
            queue = connection.SimpleQueue("celery")
            while queue.qsize():
                message = queue.get(timeout=1)
                seen.append((message.headers["task"], message.payload[0]))
                message.ack()
            queue.close()
        return seen

    with broker("memory://"):
        yield published


@pytest.fixture
def down_broker():
    """A broker URL nothing listens on: publishing fails at once."""
    with broker("redis://127.0.0.1:1/0"):
        yield
