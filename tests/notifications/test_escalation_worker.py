"""A worker killed in the middle of an escalation step: the step is paged
whole, once, by the next sweep (real Celery worker, Redis and PostgreSQL)."""

import threading

import pytest
from django.db import connection, transaction

from incidents.models import Incident
from notifications.models import Delivery, Escalation, Page
from notifications.oncall import escalation
from notifications.tasks import escalate_task
from tests.factories import IntegrationFactory, UserFactory
from tests.notifications.escalation_factories import alert_incident, make_policy
from tests.workers import celery_worker, other_connections, own_broker, wait_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


def test_a_worker_killed_mid_step_loses_and_duplicates_nothing(tmp_path):
    ann = UserFactory(username="ann")
    integration = IntegrationFactory(name="checkout-alerts")
    make_policy(integration, [(ann, 5)])
    incident = alert_incident(integration, now=None)
    assert Escalation.objects.get(incident=incident).status == "running"

    # given: the incident's row held by someone else, so the worker's sweep
    # stops inside the step (its Page row written, its timeline entry waiting)
    held, release = threading.Event(), threading.Event()

    def hold_the_incident():
        try:
            with transaction.atomic():
                Incident.objects.select_for_update().get(pk=incident.pk)
                held.set()
                release.wait(900)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_incident)
    holder.start()
    assert held.wait(10)
    log = tmp_path / "worker.log"
    try:
        # a worker that takes only this test's messages (its own broker keys)
        with own_broker() as broker, celery_worker(own=broker, log=log) as worker:
            escalate_task.delay()
            assert wait_for(_waiting_on_a_lock, timeout=240), log.read_text()[-3000:]
            # when: the worker dies mid-step
            worker.kill()
            worker.wait()
    finally:
        release.set()
        holder.join()
    # the dead worker's session ends (its transaction rolled back, its row
    # locks released) once the server notices; the sweeps below must not run
    # before that, or they would skip the escalation row it still locks
    assert wait_for(lambda: other_connections() == 0, timeout=120)

    # then: nothing of the step was kept, and the step is still due
    assert not Page.objects.exists()
    assert not Delivery.objects.exists()
    run = Escalation.objects.get(incident=incident)
    assert (run.round, run.step_index, run.last_paged_at) == (0, 0, None)

    # and the next sweeps page it once
    first = escalation.escalate_sweep(now=run.next_due_at)
    again = escalation.escalate_sweep(now=run.next_due_at)
    assert [page.user.username for page in first.pages] == ["ann"]
    assert again.pages == []
    assert Delivery.objects.filter(notification__incident=incident).count() == 1
