"""Throttled sign-in: django-axes locks an account, and an address, after a
configurable number of failures (portal and admin), with a clear message,
unlocked by time or by an administrator; wrong API tokens, wrong ingestion
secrets and password-reset mails are limited too."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.utils import timezone
from rest_framework.authtoken.models import Token

from tests.factories import INTEGRATION_SECRET, IntegrationFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
PASSWORD = "right-pass-word-42"


@pytest.fixture
def rita(db):
    user = UserFactory(username="rita", email="rita@example.com", groups=["Responders"])
    user.set_password(PASSWORD)
    user.save()
    return user


def fail(client, url=LOGIN, username="rita", times=1):
    responses = [
        client.post(url, {"username": username, "password": "wrong"})
        for _ in range(times)
    ]
    return responses[-1]


def test_the_portal_locks_an_account_after_the_limit(client, rita, settings):
    settings.AXES_FAILURE_LIMIT = 5
    assert fail(client, times=4).status_code == 200  # the form error, as before

    locked = fail(client)  # the fifth
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Sign-in locked" in page
    assert "ask an administrator" in page

    # the right password does not get through now
    response = client.post(LOGIN, {"username": "rita", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_admin_login_is_locked_too(client, rita, settings):
    settings.AXES_FAILURE_LIMIT = 3
    rita.is_staff = True
    rita.save()
    assert fail(client, ADMIN_LOGIN, times=3).status_code == 429
    response = client.post(ADMIN_LOGIN, {"username": "rita", "password": PASSWORD})
    assert response.status_code == 429


def test_an_address_is_locked_across_accounts(client, rita, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for name in ("ann", "bob", "cid"):
        fail(client, username=name)

    response = client.post(LOGIN, {"username": "rita", "password": PASSWORD})

    assert response.status_code == 429


def test_another_address_is_not_locked_by_one_accounts_failures(client, rita, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_LOCKOUT_PARAMETERS = ["ip_address"]
    fail(client, times=3)
    response = client.post(
        LOGIN,
        {"username": "rita", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.9",
    )
    assert response.status_code == 302


def test_unlocked_by_time(client, rita, settings):
    settings.AXES_FAILURE_LIMIT = 3
    fail(client, times=3)
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(1)
    )

    response = client.post(LOGIN, {"username": "rita", "password": PASSWORD})

    assert response.status_code == 302


def test_attempts_are_in_the_admin_and_an_administrator_unlocks(client, rita, settings):
    settings.AXES_FAILURE_LIMIT = 3
    fail(client, times=3)
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    admin_client = client.__class__()
    admin_client.force_login(admin)

    listing = admin_client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "rita" in listing.content.decode()
    attempt = AccessAttempt.objects.get(username="rita")
    admin_client.post(
        f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}
    )

    response = client.post(LOGIN, {"username": "rita", "password": PASSWORD})
    assert response.status_code == 302


def test_password_reset_mails_are_limited_per_account(client, rita, settings):
    settings.PASSWORD_RESET_LIMIT = 3
    for _ in range(6):
        response = client.post(
            "/accounts/password_reset/", {"email": "rita@example.com"}
        )
        assert response.status_code == 302  # the same answer every time

    assert len(mail.outbox) == 3


def test_wrong_api_tokens_are_limited_per_address(client, rita, settings):
    settings.API_AUTH_FAILURE_LIMIT = 5
    token = Token.objects.create(user=rita)
    for _ in range(5):
        wrong = client.get("/api/v1/incidents/", HTTP_AUTHORIZATION="Token not-a-token")
        assert wrong.status_code == 401

    refused = client.get("/api/v1/incidents/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    elsewhere = client.get(
        "/api/v1/incidents/",
        HTTP_AUTHORIZATION=f"Token {token.key}",
        REMOTE_ADDR="10.0.0.9",
    )
    assert elsewhere.status_code == 200


def test_wrong_ingestion_secrets_are_limited(client, settings):
    settings.INGEST_AUTH_FAILURE_LIMIT = 5
    integration = IntegrationFactory()
    url = f"/api/v1/integrations/{integration.pk}/alerts/"
    body = {"title": "Disk full", "dedup_key": "disk"}
    for _ in range(5):
        wrong = client.post(
            url,
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION="Bearer guess",
        )
        assert wrong.status_code == 401

    refused = client.post(
        url,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {INTEGRATION_SECRET}",
    )
    assert refused.status_code == 429


@pytest.mark.redis
def test_the_throttle_counts_and_blocks_in_redis(settings):
    import os

    from django.core.cache import cache as shared

    from incidentops import throttle

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "incidentops-test-throttle",
        }
    }
    shared.clear()

    counts = [throttle.count("probe", "10.0.0.9", window=60) for _ in range(3)]

    assert counts == [1, 2, 3]
    assert throttle.blocked("probe", "10.0.0.9", limit=3)
    assert not throttle.blocked("probe", "10.0.0.9", limit=4)
    assert not throttle.blocked("probe", "10.0.0.10", limit=1)
