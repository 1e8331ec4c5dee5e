"""Wiring-level periodic tasks."""

from celery import shared_task
from django.utils import timezone

from incidentops.models import Heartbeat

WORKER_HEARTBEAT = "worker"


@shared_task(ignore_result=True)
def heartbeat_task() -> None:
    """Record that a worker ran a beat-scheduled task (read by ``/healthz``)."""
    Heartbeat.objects.update_or_create(
        name=WORKER_HEARTBEAT, defaults={"last_seen_at": timezone.now()}
    )
