"""Celery tasks of the incident core: thin wrappers that call one service each."""

from celery import shared_task
from django.utils import timezone

from incidents.ingestion.service import alert_follow_up, alert_follow_up_sweep
from incidents.triage_model import triage_model_train


# Training reads every labelled incident: more room than the default limits.
@shared_task(acks_late=True, ignore_result=True, soft_time_limit=600, time_limit=660)
def retrain_triage_model_task() -> None:
    """Nightly: train the triage model on resolved incidents
    (``triage_model.triage_model_train``). Idempotent: when no labelled incident
    changed since the latest version, it stores nothing."""
    triage_model_train(now=timezone.now())


@shared_task(acks_late=True, ignore_result=True)
def alert_follow_up_task(incident_id: int) -> None:
    """After a delivery opened an incident: its triage suggestion and the
    "declared" notifications (``ingestion.alert_follow_up``). Idempotent: a
    second run finds the follow-up done and does nothing."""
    alert_follow_up(incident_id=incident_id, now=timezone.now())


@shared_task(acks_late=True, ignore_result=True)
def alert_follow_up_sweep_task() -> None:
    """Every minute: follow-ups a lost message or a stopped worker left undone
    (``ingestion.alert_follow_up_sweep``)."""
    alert_follow_up_sweep(now=timezone.now())
