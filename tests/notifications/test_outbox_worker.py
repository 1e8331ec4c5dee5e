"""A worker killed in the middle of a send: its claimed delivery goes out again
within a minute (the claim runs out, beat's sweep re-publishes it), and what it
had finished is not sent again (real Celery worker with beat, Redis and the
test database; the broker keys are this test's own)."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import services
from notifications.models import Delivery
from tests.notifications.conftest import declare
from tests.notifications.factories import ChannelFactory, StakeholderListFactory
from tests.notifications.servers import http_server
from tests.workers import celery_worker, own_broker, wait_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

RECOVERY = timedelta(seconds=60)


def _keys(server) -> Counter:
    return Counter(r["headers"]["X-IncidentOps-Delivery"] for r in server.requests)


def test_a_worker_killed_mid_send_is_recovered_within_a_minute_sending_nothing_twice(
    tmp_path, responder
):
    with own_broker() as broker, http_server(hold_first={"/b"}) as server:
        hooks = [
            ChannelFactory(
                name=f"{path[1:]}-hook", webhook=True, target=server.url_for(path)
            )
            for path in ("/a", "/b", "/c")
        ]
        StakeholderListFactory(triage=True, channels=hooks)

        # given a worker sending the incident's three webhook deliveries, stuck
        # in the middle of the one to /b (the receiver has it, no answer yet)
        with celery_worker(own=broker, log=tmp_path / "first.log") as first:
            incident = declare(responder)
            arrived = server.held.wait(180)
            assert arrived, (tmp_path / "first.log").read_text()[-3000:]
            # when the worker dies mid-send
            first.kill()
            first.wait()
            killed_at = timezone.now()
        server.release.set()  # the receiver answers a socket nobody reads
        stuck = Delivery.objects.get(recipient="b-hook")
        assert (stuck.status, stuck.attempts) == ("pending", 1)
        assert stuck.claimed_until is not None  # its claim outlives the worker

        # then another worker with beat (no one else drives it) sends the rest
        # and, once the claim runs out, the stuck one
        second_log = tmp_path / "second.log"
        with celery_worker(own=broker, beat=True, log=second_log):
            settled = wait_for(
                lambda: not Delivery.objects.filter(status="pending").exists(),
                timeout=150,
                interval=0.5,
            )
        assert settled, second_log.read_text()[-3000:]

    deliveries = {d.recipient: d for d in incident.notifications.get().deliveries.all()}
    assert {name: d.status for name, d in deliveries.items()} == {
        "a-hook": "sent",
        "b-hook": "sent",
        "c-hook": "sent",
    }
    recovered = deliveries["b-hook"]
    assert recovered.attempts == 2
    assert recovered.sent_at - killed_at <= RECOVERY, recovered.sent_at - killed_at
    assert recovered.sent_at >= stuck.claimed_until  # never while it was claimed
    # what the dead worker finished went out once; the one it was sending
    # reached the receiver again with the same idempotency key
    assert _keys(server) == {
        deliveries["a-hook"].idempotency_key: 1,
        deliveries["b-hook"].idempotency_key: 2,
        deliveries["c-hook"].idempotency_key: 1,
    }
    assert services.CLAIM_LEASE < RECOVERY
