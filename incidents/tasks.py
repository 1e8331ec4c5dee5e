"""Celery tasks of the incident core: thin wrappers that call one service each."""

from celery import shared_task
from django.utils import timezone

from incidents.ingestion.service import alert_follow_up_drain, alert_follow_up_sweep
from incidents.triage_model import triage_model_train


# Training reads every labelled incident: more room than the default limits.
@shared_task(acks_late=True, ignore_result=True, soft_time_limit=600, time_limit=660)
def retrain_triage_model_task() -> None:
    """Nightly: train the triage model on resolved incidents
    (``triage_model.triage_model_train``). Idempotent: when no labelled incident
    changed since the latest version, it stores nothing."""
    triage_model_train(now=timezone.now())


@shared_task(acks_late=True, ignore_result=True)
def alert_follow_up_task() -> None:
    """After deliveries opened incidents: each one's triage suggestion and
    "declared" notifications (``ingestion.alert_follow_up_drain``). Idempotent:
    what is done is not done again."""
    alert_follow_up_drain()


@shared_task(acks_late=True, ignore_result=True)
def alert_follow_up_sweep_task() -> None:
    """Every minute: follow-ups a lost message or a stopped worker left undone
    (``ingestion.alert_follow_up_sweep``)."""
    alert_follow_up_sweep(now=timezone.now())
