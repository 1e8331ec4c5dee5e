"""The one Celery app. Settings under ``CELERY_*`` in ``incidentops.settings``."""

import logging
import os

from celery import Celery
from kombu.exceptions import OperationalError as BrokerError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incidentops.settings")

app = Celery("incidentops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


def publish(task, *args, **kwargs) -> bool:
    """Send ``task`` to the broker now; return False, logged, if the broker is down.

    Callers are outbox-style: the row that asks for the work is already committed
    and a beat sweep finds it again, so a lost publish delays work, never loses it.
    """
    try:
        task.apply_async(args=args, kwargs=kwargs)
    except (BrokerError, OSError) as exc:
        logger.warning(
            "broker unavailable, %s left for the sweeper: %s", task.name, exc
        )
        return False
    return True
