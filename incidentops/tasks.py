"""Wiring-level periodic tasks."""

from celery import shared_task
from celery.signals import worker_ready
from django.utils import timezone

from incidentops.models import Heartbeat

WORKER_HEARTBEAT = "worker"


def record_heartbeat() -> None:
    """Stamp the worker heartbeat that ``/healthz`` reads."""
    Heartbeat.objects.update_or_create(
        name=WORKER_HEARTBEAT, defaults={"last_seen_at": timezone.now()}
    )


@shared_task(ignore_result=True)
def heartbeat_task() -> None:
    """Record that a worker ran a beat-scheduled task (read by ``/healthz``)."""
    record_heartbeat()


@worker_ready.connect
def heartbeat_on_start(**kwargs) -> None:
    # Publish one through the broker at start-up rather than writing directly, so
    # a fresh install is "ok" as soon as the worker really consumes tasks, not
    # only after beat's first interval.
    heartbeat_task.delay()
