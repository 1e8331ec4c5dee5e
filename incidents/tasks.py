"""Celery tasks of the incident core: thin wrappers that call one service each."""

from celery import shared_task
from django.utils import timezone

from incidents.triage_model import triage_model_train


# Training reads every labelled incident: more room than the default limits.
@shared_task(acks_late=True, ignore_result=True, soft_time_limit=600, time_limit=660)
def retrain_triage_model_task() -> None:
    """Nightly: train the triage model on resolved incidents
    (``triage_model.triage_model_train``). Idempotent: when no labelled incident
    changed since the latest version, it stores nothing."""
    triage_model_train(now=timezone.now())
