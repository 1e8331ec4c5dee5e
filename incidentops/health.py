"""``GET /healthz``: database, broker and worker, without authentication."""

import logging
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from incidentops.models import Heartbeat
from incidentops.tasks import WORKER_HEARTBEAT

logger = logging.getLogger(__name__)


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_broker() -> str:
    """Ping Redis, or check that the embedded broker's folder is usable."""
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
        return "ok"
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder.parent / ".healthz"
    probe.write_text("ok")
    probe.unlink()
    return "ok"


def check_worker() -> str:
    last = (
        Heartbeat.objects.filter(name=WORKER_HEARTBEAT)
        .values_list("last_seen_at", flat=True)
        .first()
    )
    fresh = last and timezone.now() - last <= settings.WORKER_HEARTBEAT_MAX_AGE
    return "ok" if fresh else "stale"


@never_cache
@require_GET
def healthz(request):
    body = {"status": "ok", "database": "ok", "broker": "ok", "worker": "stale"}
    failed = []
    try:
        check_database()
    except DatabaseError as exc:
        logger.error("healthz: database failed: %s", exc)
        body["database"] = "error"
        failed.append("database")
    try:
        check_broker()
    except Exception as exc:  # any failure to reach the broker is "down"
        logger.error("healthz: broker failed: %s", exc)
        body["broker"] = "error"
        failed.append("broker")
    if "database" not in failed:
        body["worker"] = check_worker()
    if failed:
        body["status"] = "error"
        body["failing"] = failed
        return JsonResponse(body, status=503)
    return JsonResponse(body)
