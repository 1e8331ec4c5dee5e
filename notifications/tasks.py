"""Celery tasks: thin wrappers that call one service each."""

from celery import shared_task
from django.utils import timezone

from notifications import services
from notifications.channels import TransientDeliveryError


@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=None,
    soft_time_limit=services.SEND_SOFT_TIME_LIMIT,
    time_limit=services.SEND_TIME_LIMIT,
)
def send_delivery_task(self, delivery_id: int) -> None:
    """Send one delivery (``services.delivery_send`` re-reads and locks it).

    Retries only a ``TransientDeliveryError``, after the backoff the service
    recorded; the service itself caps the attempts and records the final
    failure, so retries here never outnumber ``services.MAX_ATTEMPTS``. Its
    hard time limit is below ``services.CLAIM_LEASE``: no send outlives its
    claim, so a second worker never sends what a first is still sending.
    """
    try:
        services.delivery_send(delivery_id=delivery_id)
    except TransientDeliveryError as exc:
        raise self.retry(exc=exc, countdown=getattr(exc, "retry_in", 30)) from exc


@shared_task(ignore_result=True)
def sweep_outbox_task() -> None:
    """Re-publish deliveries left pending (``services.outbox_sweep``)."""
    services.outbox_sweep(now=timezone.now())


@shared_task(ignore_result=True)
def send_cadence_reminders_task() -> None:
    """Remind people of due and overdue stakeholder updates."""
    services.cadence_reminders_sweep(now=timezone.now())


@shared_task(ignore_result=True)
def escalate_task() -> None:
    """Page the escalation steps that fell due
    (``notifications.oncall.escalation.escalate_sweep``)."""
    from notifications.oncall.escalation import escalate_sweep

    escalate_sweep(now=timezone.now())
