"""Test settings: the real settings, with a few test-only changes."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")

from incidentops.settings import *  # noqa: E402,F403
from incidentops.settings import DATABASES, VAR_DIR  # noqa: E402

DEBUG = False
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0

# Test databases on SQLite are files, so a worker process can share them; one per
# test process, so that parallel runs never collide.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {
        "NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")
    }

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# Compressed manifest storage needs collectstatic; live-server tests serve plainly.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# No collectstatic in tests: serve from the finders, without scanning STATIC_ROOT.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}

# Tests train the triage prior on first use, in the test's own thread.
TRIAGE_WARM_UP = False

# A worker test's own corner of its Redis database (``tests.workers.own_broker``):
# every broker key of the worker it starts carries this prefix, so the worker
# takes only what that test published, never another test's leftovers.
if os.environ.get("CELERY_BROKER_KEYPREFIX"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
        "global_keyprefix": os.environ["CELERY_BROKER_KEYPREFIX"],
    }
