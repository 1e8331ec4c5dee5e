"""Celery tasks of the reviews app (thin: each calls one service)."""

import logging

from celery import shared_task
from django.utils import timezone

from reviews.services import review_sweep

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def check_overdue_reviews_task() -> int:
    """Beat: run the review sweep as of now (reminders, overdue alerts,
    escalations). Idempotent, so a repeated or late run sends nothing twice."""
    alerts = review_sweep(now=timezone.now())
    for alert in alerts:
        logger.info("review sweep sent %s", alert.describe())
    return len(alerts)
