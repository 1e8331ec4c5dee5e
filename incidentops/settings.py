"""IncidentOps settings, all from the environment (see README, "Configuration").

Defaults give a working local install with nothing else running: SQLite under
``var/`` and Celery's filesystem broker. ``DATABASE_URL`` and ``REDIS_URL`` switch to
PostgreSQL and Redis, the production path.
"""

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.utils.csp import CSP

from incidentops.env import BASE_DIR, VAR_DIR, database, env, secret_key

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = secret_key(debug=DEBUG)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"]
)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "simple_history",
    "django_htmx",
    "axes",
    # Ours, in the order imports flow: each app may import only those above it.
    "incidentops",
    "incidents",
    "notifications",
    "reviews",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: turns a locked-out login into the lockout page (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "incidentops.urls"
WSGI_APPLICATION = "incidentops.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "incidentops.context_processors.site",
            ],
        },
    },
]

DATABASES = {"default": database(VAR_DIR / "incidentops.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "incidentops.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account or address before any password check.
    "incidentops.auth.SignInThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # no guardian anonymous user: everything needs a login

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# The organisation's own time zone: business days for review due dates are
# counted in it, and the portal shows times in it.
INCIDENTOPS_TIME_ZONE = env.str("INCIDENTOPS_TIME_ZONE", default="Europe/London")

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Alert ingestion: the body cap, checked before anything parses a delivery. ---
INGEST_MAX_BODY_BYTES = env.int("INGEST_MAX_BODY_BYTES", default=10 * 1024 * 1024)

# GET /metrics (Prometheus): a bearer token, or else these client networks.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list(
    "METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"]
)

# --- Cache: shared between processes (rate limits, ingestion budgets). ---
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "incidentops",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
        }
    }

# --- Celery: Redis when REDIS_URL is set, else the embedded filesystem broker. ---
CELERY_BROKER_DIR = Path(
    env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "celery-broker"))
)
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Publishing must not hang a request when the broker is down: fail fast, and the
# outbox sweeper sends what was left pending once the broker is back.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TIMEZONE = "UTC"
# Beat keeps its schedule in memory, not in a schedule file: every entry below is
# a sweep over database state (or a nightly retrain that stores a version only
# when the data changed), so a restarted beat loses nothing by starting its
# intervals afresh. A shelve file on Python 3.13 is an SQLite database whose
# lock errors ("locking protocol") stopped beat in the middle of a run.
CELERY_BEAT_SCHEDULER = "celery.beat:Scheduler"
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {
        "task": "incidentops.tasks.heartbeat_task",
        "schedule": timedelta(seconds=30),
        "options": {"expires": 25},
    },
    # With the claim lease (35 s), a dead worker's deliveries go out again
    # within a minute (notifications.services.CLAIM_LEASE).
    "notifications-outbox-sweep": {
        "task": "notifications.tasks.sweep_outbox_task",
        "schedule": timedelta(seconds=10),
        "options": {"expires": 9},
    },
    # Escalation steps that fell due are paged within this interval (docs/oncall.md).
    "notifications-escalate": {
        "task": "notifications.tasks.escalate_task",
        "schedule": timedelta(seconds=15),
        "options": {"expires": 14},
    },
    "notifications-cadence-reminders": {
        "task": "notifications.tasks.send_cadence_reminders_task",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
    "check-overdue-reviews": {
        "task": "reviews.tasks.check_overdue_reviews_task",
        "schedule": timedelta(minutes=15),
        "options": {"expires": 600},
    },
    # Alert incidents whose after-commit follow-up a lost message left undone.
    "incidents-alert-follow-up-sweep": {
        "task": "incidents.tasks.alert_follow_up_sweep_task",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
    # Nightly, off-peak; stores a version only when labelled incidents changed.
    "incidents-retrain-triage-model": {
        "task": "incidents.tasks.retrain_triage_model_task",
        "schedule": crontab(hour=3, minute=15),
        "options": {"expires": 3600},
    },
}
# How long a page's signed one-click acknowledge link stays valid.
PAGE_ACK_LINK_MAX_AGE = timedelta(hours=env.int("PAGE_ACK_LINK_HOURS", default=24))

# How recent the last heartbeat must be for /healthz to call the worker "ok".
WORKER_HEARTBEAT_MAX_AGE = timedelta(minutes=5)

# --- E-mail: SMTP when EMAIL_HOST is set, the console otherwise. ---
# The EMAIL_* environment variables (CONTRACT.md) feed Django 6.1's MAILERS.
EMAIL_HOST = env.str("EMAIL_HOST", default="")
if EMAIL_HOST:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": EMAIL_HOST,
                "port": env.int("EMAIL_PORT", default=25),
                "username": env.str("EMAIL_HOST_USER", default=""),
                "password": env.str("EMAIL_HOST_PASSWORD", default=""),
                "use_tls": env.bool("EMAIL_USE_TLS", default=False),
                "timeout": 10,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
del EMAIL_HOST  # only MAILERS may configure mail (Django refuses both)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="IncidentOps <incidentops@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "incidentops.auth.ThrottledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "incidentops.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["incidentops.parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "incidentops.api.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "IncidentOps API",
    "DESCRIPTION": "Incidents, triage, roles, actions, timeline, stakeholder "
    "updates, post-incident reviews and analytics.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "IncidentStatusEnum": "incidents.models.Incident.Status",
        "ActionItemStatusEnum": "incidents.models.ActionItem.Status",
        "AlertStatusEnum": "incidents.ingestion.batch.ALERT_STATUSES",
        "ReviewStatusEnum": "reviews.models.Review.Status",
        "ClosureReasonEnum": "incidents.models.Incident.ClosureReason",
    },
    # Alert ingestion authenticates integrations with their own bearer secret.
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "integrationBearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "The secret printed by create_integration.",
            }
        }
    },
}

# --- Security: production defaults whenever DEBUG is off. ---
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
# Content Security Policy: scripts only from our own static files (the portal
# has no inline scripts; htmx's inline indicator style is switched off). Inline
# style attributes stay allowed for the admin and the API docs.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Sign-in throttling (django-axes) and credential rate limits ---
# Portal and admin logins: after AXES_FAILURE_LIMIT failures an account, and
# separately an address, is locked for AXES_COOLOFF_MINUTES (or until an
# administrator deletes its access attempt in the admin, or `axes_reset`).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# Wrong API tokens and wrong ingestion secrets per client address, password
# reset requests per account and per address: at most LIMIT in WINDOW seconds.
API_AUTH_FAILURE_LIMIT = env.int("API_AUTH_FAILURE_LIMIT", default=20)
API_AUTH_FAILURE_WINDOW = env.int("API_AUTH_FAILURE_WINDOW", default=900)
INGEST_AUTH_FAILURE_LIMIT = env.int("INGEST_AUTH_FAILURE_LIMIT", default=20)
INGEST_AUTH_FAILURE_WINDOW = env.int("INGEST_AUTH_FAILURE_WINDOW", default=900)
PASSWORD_RESET_LIMIT = env.int("PASSWORD_RESET_LIMIT", default=3)
PASSWORD_RESET_ADDRESS_LIMIT = env.int("PASSWORD_RESET_ADDRESS_LIMIT", default=20)
PASSWORD_RESET_WINDOW = env.int("PASSWORD_RESET_WINDOW", default=3600)
