"""Settings come from the environment; production refuses to start unsafely."""

import os
import subprocess
import sys

from tests.workers import ROOT


def run_django(env_overrides: dict, *args: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        # a clean start: nothing the test process itself set (browser tests set
        # DJANGO_ALLOW_ASYNC_UNSAFE, which a deployment must never have)
        if k
        not in (
            "SECRET_KEY",
            "DEBUG",
            "DJANGO_SETTINGS_MODULE",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        )
    }
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_secret_key():
    result = run_django({"DEBUG": "false"}, "check")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_starts_without_secret_key():
    result = run_django({"DEBUG": "true"}, "check")

    assert result.returncode == 0, result.stderr


def test_deploy_check_is_clean_in_the_documented_production_environment():
    result = run_django(
        {
            "DEBUG": "false",
            "SECRET_KEY": "x" * 64 + "-production-like-secret-for-the-deploy-check",
            "ALLOWED_HOSTS": "incidents.example.com",
            "SITE_URL": "https://incidents.example.com",
            "EMAIL_HOST": "smtp.example.com",
            "EMAIL_PORT": "587",
            "EMAIL_USE_TLS": "true",
        },
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_settings_follow_the_environment(settings):
    # the test settings import the real module; its env-derived values are in place
    assert settings.USE_TZ is True
    assert settings.AUTH_USER_MODEL == "incidentops.User"
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_SERIALIZER == "json"
    expected_redis = os.environ.get("REDIS_URL", "")
    assert settings.REDIS_URL == expected_redis
    if expected_redis:
        assert settings.CELERY_BROKER_URL == expected_redis
    else:
        assert settings.CELERY_BROKER_URL == "filesystem://"
