from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from incidentops.models import Heartbeat


@pytest.fixture
def fresh_heartbeat(db):
    return Heartbeat.objects.create(name="worker", last_seen_at=timezone.now())


def test_all_parts_ok(client, fresh_heartbeat, settings, tmp_path):
    # given an embedded broker folder and a heartbeat from a minute ago
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "q")}
    # when
    response = client.get("/healthz")
    # then
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "worker": "ok",
    }


def test_worker_is_stale_without_a_recent_heartbeat(client, db, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "q")}
    Heartbeat.objects.create(
        name="worker", last_seen_at=timezone.now() - timedelta(minutes=6)
    )

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["worker"] == "stale"


def test_worker_is_stale_when_no_worker_ever_ran(client, db, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "q")}

    assert client.get("/healthz").json()["worker"] == "stale"


def test_broker_down_is_503_naming_the_broker(client, fresh_heartbeat, settings):
    # nothing listens on port 1: a real refused connection
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["broker"] == "error"
    assert body["failing"] == ["broker"]
    assert body["database"] == "ok"


def test_embedded_broker_unusable_is_503(client, fresh_heartbeat, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the broker folder should be")
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(blocker / "queue")
    }

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]


def test_database_down_is_503_naming_the_database(
    client, db, settings, tmp_path, monkeypatch
):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "q")}

    def refuse():
        raise OperationalError("connection refused")

    monkeypatch.setattr("incidentops.health.check_database", refuse)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "error"
    assert body["failing"] == ["database"]
    assert body["worker"] == "stale"  # unknown without a database


def test_health_needs_no_login_and_is_not_cached(client, fresh_heartbeat):
    response = client.get("/healthz")

    assert response.status_code in (200, 503)
    assert "no-cache" in response.headers["Cache-Control"]


def test_pages_carry_a_strict_content_security_policy(client, db):
    response = client.get("/accounts/login/")

    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-eval" not in policy
