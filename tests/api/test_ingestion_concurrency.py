"""Concurrent deliveries of one key, through the real view, on PostgreSQL."""

import json
import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from incidents.models import Alert, AlertState, Incident
from incidents.timeline import verify_timeline
from tests.factories import INTEGRATION_SECRET, IntegrationFactory

THREADS = 16

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _deliver_at_once(integration, body) -> list:
    barrier = threading.Barrier(THREADS)
    outcomes: list = [None] * THREADS

    def run(i):
        try:
            barrier.wait()
            response = Client().post(
                f"/api/v1/integrations/{integration.pk}/alerts/",
                data=json.dumps(body),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {INTEGRATION_SECRET}",
            )
            outcomes[i] = (response.status_code, response.json())
        except Exception as error:  # reported by the assertion below
            outcomes[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_concurrent_deliveries_of_one_key_make_exactly_one_incident():
    cache.clear()
    integration = IntegrationFactory(name="storm")
    body = {
        "title": "Queue backlog growing",
        "dedup_key": "queue-backlog",
        "status": "firing",
    }

    outcomes = _deliver_at_once(integration, body)

    assert all(isinstance(o, tuple) for o in outcomes), outcomes
    assert {status for status, _ in outcomes} == {202}
    assert Incident.objects.count() == 1
    incident = Incident.objects.get()
    assert {reply["incident"] for _, reply in outcomes} == {incident.reference}
    assert sum(reply["created"] for _, reply in outcomes) == 1
    assert AlertState.objects.get(incident=incident).deliveries == THREADS
    assert Alert.objects.get(incident=incident).deliveries == THREADS
    assert verify_timeline(incident).ok


def test_concurrent_repeats_of_an_open_group_count_every_delivery():
    cache.clear()
    integration = IntegrationFactory(name="repeats")
    body = {"title": "Disk filling on db-1", "dedup_key": "disk-db-1"}
    first = Client().post(
        f"/api/v1/integrations/{integration.pk}/alerts/",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {INTEGRATION_SECRET}",
    )
    assert first.status_code == 202

    outcomes = _deliver_at_once(integration, body)

    assert {status for status, _ in outcomes} == {202}
    incident = Incident.objects.get()
    # every delivery counted on the group and on its alert: no lost update
    assert AlertState.objects.get(incident=incident).deliveries == THREADS + 1
    assert Alert.objects.get(incident=incident).deliveries == THREADS + 1
    assert verify_timeline(incident).ok
