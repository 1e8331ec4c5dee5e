"""Concurrent escalation sweeps on a real database: nobody is paged twice."""

import threading

import pytest
from django.db import close_old_connections, connection

from notifications.models import Delivery, Escalation, Page
from notifications.oncall import escalation
from tests.factories import IntegrationFactory, UserFactory
from tests.notifications.escalation_factories import (
    T0,
    alert_incident,
    make_policy,
    minutes,
)

THREADS = 4
INCIDENTS = 12

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(moment):
    barrier = threading.Barrier(THREADS)
    errors = []

    def run():
        try:
            barrier.wait()
            escalation.escalate_sweep(now=moment)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_old_connections()
    return errors


def test_concurrent_sweeps_page_each_step_once(monkeypatch):
    # SKIP LOCKED must do the sharing: small batches make the sweeps overlap.
    monkeypatch.setattr(escalation, "SWEEP_BATCH", 2)
    ann = UserFactory(username="ann")
    bob = UserFactory(username="bob")
    integration = IntegrationFactory(name="checkout-alerts")
    make_policy(integration, [(ann, 5), (bob, 5)])
    incidents = [alert_incident(integration, key=f"k{i}") for i in range(INCIDENTS)]

    assert _race(T0) == []
    assert _race(minutes(5)) == []

    assert Page.objects.count() == 2 * INCIDENTS
    assert Delivery.objects.count() == 2 * INCIDENTS
    for incident in incidents:
        pages = Page.objects.filter(incident=incident).order_by("step_index")
        assert [page.user.username for page in pages] == ["ann", "bob"]
    assert set(Escalation.objects.values_list("step_index", "round")) == {(0, 1)}
