"""With the broker down, incidents still move; once it is back, the sweeper
gets every delivery out through a real worker and real Redis, none twice."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import services as incident_services
from notifications import services
from notifications.models import Delivery
from tests.notifications.conftest import broker, command, confirm, declare
from tests.notifications.factories import ChannelFactory, StakeholderListFactory
from tests.notifications.servers import http_server
from tests.workers import celery_worker, own_broker, wait_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]


def test_broker_down_then_up_delivers_everything_once(tmp_path, responder, manager):
    with http_server() as server:
        hook = ChannelFactory(
            webhook=True, target=server.url, events=["incident_changed"]
        )
        StakeholderListFactory(triage=True, channels=[hook])
        StakeholderListFactory(severities=["SEV-2"], channels=[hook])

        # given Redis unreachable (a closed port), the incident work succeeds
        with broker("redis://127.0.0.1:1/0"):
            incident = command(declare(responder), manager)
            confirm(incident, manager, "SEV-2")
            incident_services.stakeholder_update_post(
                incident=incident, actor=manager, body="Rolled back."
            )
        pending = set(
            Delivery.objects.filter(status="pending").values_list(
                "idempotency_key", flat=True
            )
        )
        assert len(pending) >= 6
        assert server.requests == []

        # when the broker is back, with a worker, and the sweeper runs (twice,
        # racing the tasks it published)
        log = tmp_path / "worker.log"
        with own_broker() as own, celery_worker(own=own, log=log):
            later = timezone.now() + timedelta(minutes=2)
            assert services.outbox_sweep(now=later) == len(pending)
            services.outbox_sweep(now=later + services.RESWEEP_AFTER)
            settled = wait_for(
                lambda: not Delivery.objects.filter(status="pending").exists(),
                timeout=60,
            )
        assert settled, log.read_text()[-3000:]

    # then every delivery went out exactly once
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    seen = Counter(r["headers"]["X-IncidentOps-Delivery"] for r in server.requests)
    assert set(seen) == pending
    assert set(seen.values()) == {1}
    outcomes = incident.timeline.filter(kind="communication", data__status="delivered")
    assert outcomes.count() == incident.notifications.count()
