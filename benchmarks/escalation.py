"""Escalation under load: 1,000 running escalations fall due at once.

The sweep (``notifications.oncall.escalation``) runs in this process as beat
would run it; after each batch commits, its deliveries go to a queue that
``SENDERS`` threads drain with ``delivery_send`` (e-mail to Django's in-memory
backend), as worker processes drain the broker. Reported:

- the sweep's queries: when nothing is due, and per escalation paged (at 100
  and at 1,000 due, which must be equal: no N+1);
- the lag from the moment the steps fell due to each page's e-mail handed to the
  mail backend (p50, p95, max), and the worst case with beat's 15-second interval
  added (a step that falls due just after a sweep started waits for the next);
- the sweep's wall time.

Target: every page out within 30 s of falling due.
"""

from __future__ import annotations

import queue
import statistics
import threading
import time
from datetime import date, timedelta

ESCALATIONS = 1000
BEAT_INTERVAL = 15.0  # seconds, settings.CELERY_BEAT_SCHEDULE["notifications-escalate"]


def _setup(count: int, *, prefix: str):
    """``count`` alert incidents, each with a running escalation due now, on a
    policy whose first step pages a schedule's on-call (Ann) and whose second
    pages Bob."""
    from django.utils import timezone

    from incidentops.models import User
    from incidents.models import Incident
    from notifications.models import (
        Escalation,
        EscalationPolicy,
        EscalationStep,
        LayerParticipant,
        Schedule,
        ScheduleLayer,
    )

    ann, _ = User.objects.get_or_create(
        username="bench-ann", defaults={"email": "ann@example.com"}
    )
    bob, _ = User.objects.get_or_create(
        username="bench-bob", defaults={"email": "bob@example.com"}
    )
    schedule, created = Schedule.objects.get_or_create(
        name="Bench primary", defaults={"time_zone": "Europe/London"}
    )
    if created:
        layer = ScheduleLayer.objects.create(
            schedule=schedule,
            name="Weekly",
            priority=1,
            start_date=date(2026, 1, 5),
            length_unit=ScheduleLayer.Length.WEEKLY,
        )
        LayerParticipant.objects.create(layer=layer, user=ann, position=0)
    policy, created = EscalationPolicy.objects.get_or_create(name="Bench policy")
    if created:
        EscalationStep.objects.create(
            policy=policy, position=1, schedule=schedule, wait_minutes=5
        )
        EscalationStep.objects.create(
            policy=policy, position=2, user=bob, wait_minutes=5
        )
    now = timezone.now()
    incidents = Incident.objects.bulk_create(
        Incident(
            reference=f"{prefix}-{i:05d}",
            title=f"Checkout API 5xx above 5% on node {i}",
            created_at=now,
            detected_at=now,
        )
        for i in range(count)
    )
    Escalation.objects.bulk_create(
        Escalation(
            incident=incident,
            policy=policy,
            trigger="bench",
            started_at=now,
            next_due_at=now,
        )
        for incident in incidents
    )
    return now


def _run(count: int, *, prefix: str, senders: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.utils import timezone

    from notifications import services
    from notifications.models import Delivery
    from notifications.oncall import escalation

    due = _setup(count, prefix=prefix)
    work: queue.Queue = queue.Queue()
    sent_at: list[float] = []
    lock = threading.Lock()

    def sender():
        from django.db import connection as own

        try:
            while True:
                delivery_id = work.get()
                if delivery_id is None:
                    return
                services.delivery_send(delivery_id=delivery_id)
                with lock:
                    sent_at.append(time.perf_counter())
        finally:
            own.close()

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    with override_settings(
        MAILERS={
            "default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
        }
    ):
        for thread in threads:
            thread.start()
        moment = timezone.now()
        started = time.perf_counter()
        # the steps fell due before the sweep began (setting them up)
        waited = (moment - due).total_seconds()
        result = escalation.SweepResult(pages=[])
        published: set[int] = set()
        sweep_queries = 0
        while True:
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as captured:
                taken = escalation._sweep_escalations(moment, result)
            sweep_queries += len(captured)
            # the batch committed: its deliveries reach the workers
            fresh = list(
                Delivery.objects.filter(
                    status="pending", notification__page__isnull=False
                )
                .exclude(pk__in=published)
                .values_list("pk", flat=True)
            )
            published.update(fresh)
            for delivery_id in fresh:
                work.put(delivery_id)
            if taken < escalation.SWEEP_BATCH:
                break
        swept = time.perf_counter()
        for _ in threads:
            work.put(None)
        for thread in threads:
            thread.join()
    lags = sorted(at - started + waited for at in sent_at)
    lost = Delivery.objects.filter(status="pending").count()
    return {
        "escalations": count,
        "pages": len(result.pages),
        "deliveries_sent": len(sent_at),
        "deliveries_left_pending": lost,
        "sweep_seconds": round(swept - started, 2),
        "sweep_queries": sweep_queries,
        "sweep_queries_per_escalation": round(sweep_queries / max(count, 1), 2),
        "lag_p50_s": round(statistics.median(lags), 2) if lags else None,
        "lag_p95_s": round(lags[int(len(lags) * 0.95) - 1], 2) if lags else None,
        "lag_max_s": round(lags[-1], 2) if lags else None,
        "lag_max_with_beat_interval_s": (
            round(lags[-1] + BEAT_INTERVAL, 2) if lags else None
        ),
        "senders": senders,
    }


def idle_queries() -> int:
    """Queries of a sweep with nothing due."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from notifications.oncall import escalation

    with CaptureQueriesContext(connection) as captured:
        escalation.escalate_sweep(now=timezone.now() - timedelta(days=365))
    return len(captured)


def run(*, senders: int) -> dict:
    """The workload above; returns its figures."""
    small = _run(100, prefix="BENCH-S", senders=senders)
    large = _run(ESCALATIONS, prefix="BENCH-L", senders=senders)
    return {
        "idle_sweep_queries": idle_queries(),
        "due_100": small,
        f"due_{ESCALATIONS}": large,
        "queries_flat": small["sweep_queries_per_escalation"]
        == large["sweep_queries_per_escalation"],
    }
