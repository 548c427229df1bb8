"""Django settings: every value comes from the environment (see .env.example).

A local `.env` file (written by `make run` with DEBUG=1 and a generated development key,
git-ignored) fills in variables the environment does not set; the environment always wins.
Development defaults are safe to run locally; with DEBUG off the app refuses to start
without a real SECRET_KEY and turns on the HTTPS-only settings `check --deploy` asks for.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from annotator.db_timeouts import ROLES, Timeouts, with_startup_options
from annotator.throttling import parse_fraction

BASE_DIR = Path(__file__).resolve().parent.parent

# Local settings file: ENV_FILE names it (default .env beside manage.py; empty: none). Values are
# taken literally (no ${...} expansion) and never replace a variable the environment sets.
ENV_FILE = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE:
    load_dotenv(ENV_FILE, override=False, interpolate=False)

# A key that is only good for local development: production refuses it below.
DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_fraction(name: str, default: float) -> float:
    """A share in (0, 1], such as a duty cycle."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse_fraction(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} {error}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set DEBUG=1 for local development, or set SECRET_KEY to a "
            "long random value in production: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
elif not DEBUG and (
    SECRET_KEY == DEVELOPMENT_SECRET_KEY or SECRET_KEY.startswith("django-insecure")
):
    raise ImproperlyConfigured(
        "SECRET_KEY is the development default or another development key (it starts with "
        "'django-insecure', like the one `make run` writes to .env); production needs its own "
        "random key."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "annotator",
    # After annotator, whose `db_worker` (annotator/worker.py: heartbeat, recovery, retries)
    # takes the place of django-tasks-db's command of the same name.
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    # First: load-balancer probes (/healthz, /readyz) answer before host checks and HTTPS
    # redirects, which a probe sent to the host's own address over plain HTTP would fail.
    "annotator.health.HealthCheckMiddleware",
    # Next, so every log record, error page and answer of the request carries its id.
    "annotator.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Compresses pages (HTML answers to GET) last, after every other layer wrote its part.
    "annotator.compression.CompressionMiddleware",
    # Static files before anything that touches the session or the database.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "annotator.middleware.DatabaseUnavailableMiddleware",
    "annotator.middleware.ActivityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: it turns a lockout into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "annotator.urls"
WSGI_APPLICATION = "annotator.wsgi.application"

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
            ],
        },
    },
]

# No DATABASE_URL means the embedded SQLite file that `make run` uses; tests and production
# set DATABASE_URL to PostgreSQL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several connections write to the one file: requests, the activity writer thread
    # (annotator/activity.py) and the worker beside `make run`. A transaction that starts as
    # a reader and then writes fails at once with "database is locked" when another connection
    # wrote meanwhile; taking the write lock at BEGIN (IMMEDIATE) makes it wait its turn
    # instead, up to `timeout` seconds.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# Bounded waits (PostgreSQL; annotator/db_timeouts.py): statement, lock and idle-in-transaction
# timeouts in seconds, 0 for none. Web requests get short ones, so one stuck behind a lock
# answers 503 within seconds; background work (the worker, imports, exports, migrations) long
# ones. DATABASE_TIMEOUTS_ROLE says which a process uses: annotator/wsgi.py sets "web", every other
# process (manage.py ...) defaults to "background".
def env_milliseconds(name: str, default_seconds: float) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return round(default_seconds * 1000)
    try:
        seconds = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, got {raw!r}") from None
    if not 0 <= seconds < 2_000_000:
        raise ImproperlyConfigured(f"{name} must be 0 (no limit) or a positive number of seconds")
    return round(seconds * 1000)


DATABASE_TIMEOUTS = {
    "web": Timeouts(
        statement_ms=env_milliseconds("DATABASE_WEB_STATEMENT_TIMEOUT", 15),
        lock_ms=env_milliseconds("DATABASE_WEB_LOCK_TIMEOUT", 3),
        idle_in_transaction_ms=env_milliseconds("DATABASE_WEB_IDLE_IN_TRANSACTION_TIMEOUT", 30),
    ),
    "background": Timeouts(
        statement_ms=env_milliseconds("DATABASE_BACKGROUND_STATEMENT_TIMEOUT", 3600),
        lock_ms=env_milliseconds("DATABASE_BACKGROUND_LOCK_TIMEOUT", 600),
        idle_in_transaction_ms=env_milliseconds(
            "DATABASE_BACKGROUND_IDLE_IN_TRANSACTION_TIMEOUT", 600
        ),
    ),
}
DATABASE_TIMEOUTS_ROLE = os.environ.get("DATABASE_TIMEOUTS_ROLE") or "background"
if DATABASE_TIMEOUTS_ROLE not in ROLES:
    raise ImproperlyConfigured(
        f"DATABASE_TIMEOUTS_ROLE must be one of {', '.join(ROLES)}, got {DATABASE_TIMEOUTS_ROLE!r}"
    )
DATABASES["default"] = with_startup_options(
    DATABASES["default"], DATABASE_TIMEOUTS[DATABASE_TIMEOUTS_ROLE]
)

# The background worker (manage.py db_worker, annotator/worker.py): it records a heartbeat
# every WORKER_HEARTBEAT_SECONDS; one not seen for WORKER_LEASE_SECONDS is gone, its running
# job is started again (up to IMPORT_MAX_ATTEMPTS runs in all) or marked failed, and the import
# page and /readyz say no worker is running. Database errors make it wait and retry, at most
# WORKER_RETRY_MAX_SECONDS between attempts.
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 5, minimum=1)
WORKER_LEASE_SECONDS = env_int("WORKER_LEASE_SECONDS", 30, minimum=2)
WORKER_RETRY_MAX_SECONDS = env_int("WORKER_RETRY_MAX_SECONDS", 30, minimum=1)
IMPORT_MAX_ATTEMPTS = env_int("IMPORT_MAX_ATTEMPTS", 3, minimum=1)
# Stopped (Ctrl-C, SIGTERM) in the middle of a task, the worker waits this long for it to end,
# then interrupts it; an interrupted import goes back to the queue.
WORKER_STOP_GRACE_SECONDS = env_int("WORKER_STOP_GRACE_SECONDS", 10, minimum=0)
if WORKER_LEASE_SECONDS <= 2 * WORKER_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "WORKER_LEASE_SECONDS must be more than twice WORKER_HEARTBEAT_SECONDS, so one late "
        "heartbeat does not make a live worker look gone"
    )
# /readyz also requires a worker heartbeat; 0 leaves the worker out of the web hosts' readiness.
READYZ_REQUIRES_WORKER = env_bool("READYZ_REQUIRES_WORKER", default=True)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
# Production serves collectstatic's output through WhiteNoise, compressed and with hashed names
# (cached for a year); development and tests read the source folders and need no collectstatic.
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Files kept on this host's disk: only dataset releases' files, by default (uploads for imports
# live in the database, see annotator/upload_storage.py).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")

# Dataset releases (annotator/releases/): built files live in this storage and are only ever
# read and written through it. The default keeps them under MEDIA_ROOT/releases; a deployment
# with several hosts names a shared backend (e.g. storages.backends.s3.S3Storage) and its
# options as JSON.
RELEASES_STORAGE_BACKEND = (
    os.environ.get("RELEASES_STORAGE_BACKEND") or "django.core.files.storage.FileSystemStorage"
)
try:
    RELEASES_STORAGE_OPTIONS = json.loads(os.environ.get("RELEASES_STORAGE_OPTIONS") or "null")
except ValueError as error:
    raise ImproperlyConfigured(f"RELEASES_STORAGE_OPTIONS must be a JSON object: {error}") from None
if RELEASES_STORAGE_OPTIONS is None:
    RELEASES_STORAGE_OPTIONS = {"location": str(MEDIA_ROOT / "releases")}
if not isinstance(RELEASES_STORAGE_OPTIONS, dict):
    raise ImproperlyConfigured("RELEASES_STORAGE_OPTIONS must be a JSON object")
STORAGES["releases"] = {"BACKEND": RELEASES_STORAGE_BACKEND, "OPTIONS": RELEASES_STORAGE_OPTIONS}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "annotator:home"
LOGOUT_REDIRECT_URL = "login"

# Background work (web uploads that outlive a request) runs through Django's tasks API; the
# database backend needs no extra service and behaves the same on SQLite and PostgreSQL.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# REST API: personal bearer tokens for scripts, the session for the browser, never basic auth.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "annotator.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies only; the two upload endpoints add multipart themselves.
    "DEFAULT_PARSER_CLASSES": ["annotator.api.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["annotator.api.filters.StrictFilterBackend"],
    # `?format=` belongs to the export endpoint (jsonl|csv), not to renderer selection.
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_PAGINATION_CLASS": "annotator.api.pagination.IdCursorPagination",
    "PAGE_SIZE": env_int("API_PAGE_SIZE", 100, minimum=1),
    "DEFAULT_SCHEMA_CLASS": "annotator.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "annotator.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Claim & stance annotator API",
    "DESCRIPTION": (
        "Corpora, articles, sentences, annotations, gold labels, agreement figures and "
        "streaming dataset exports. Authenticate with `Authorization: Bearer <token>`; "
        'errors are `{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from drf-spectacular-sidecar's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "annotator.api.schema.require_non_empty_query_strings",
        "annotator.api.schema.add_links",
    ],
}
# Export: secret for stable annotator pseudonyms (?anonymize=1); defaults to one derived from
# SECRET_KEY so pseudonyms stay the same across exports of one installation.
EXPORT_PSEUDONYM_KEY = os.environ.get("EXPORT_PSEUDONYM_KEY", "")
# Creating tokens is rare; a burst means a script gone wrong or a hijacked session. Counted
# from the tokens table, so the limit holds across processes without a shared cache.
API_TOKEN_CREATE_PER_HOUR = env_int("API_TOKEN_CREATE_PER_HOUR", 10, minimum=1)
EXPORT_CHUNK_SIZE = env_int("EXPORT_CHUNK_SIZE", 1000, minimum=1)
# Live exports stream from a thread this much nicer than the request threads (Linux), so a big
# export takes only the CPU that annotators' requests leave over. 0 streams from the request
# thread. Release downloads stream a built file and are never paced; the live export still needs
# this (measured: bench/README.md, "Export pacing after releases").
EXPORT_NICENESS = env_int("EXPORT_NICENESS", 19, minimum=0)
# Niceness does not reach PostgreSQL, so background work also keeps a duty cycle: an export, and
# an import running as a background job (web upload), spend at most this share of wall-clock time
# working (database time included) and rest the remainder. 1 never rests.
EXPORT_DUTY_CYCLE = env_fraction("EXPORT_DUTY_CYCLE", 0.1)
IMPORT_DUTY_CYCLE = env_fraction("IMPORT_DUTY_CYCLE", 0.1)
# ...but only while the site is in use: a page or htmx request within this many seconds, on any
# web host. The record is one row in the database, shared by every host and worker
# (annotator/activity.py): each web process writes it at most once a second from a thread of its
# own, on a connection it opens for the write and closes after it. With nobody working, exports
# and imports run at full speed.
ACTIVITY_WINDOW_SECONDS = env_int("ACTIVITY_WINDOW_SECONDS", 5, minimum=0)

# Import limits: each rejects input before anything is written.
IMPORT_MAX_FILE_BYTES = env_int("IMPORT_MAX_FILE_BYTES", 5 * 1024 * 1024, minimum=1)
IMPORT_MAX_TOTAL_BYTES = env_int("IMPORT_MAX_TOTAL_BYTES", 200 * 1024 * 1024, minimum=1)
IMPORT_MAX_ZIP_MEMBERS = env_int("IMPORT_MAX_ZIP_MEMBERS", 10_000, minimum=1)
IMPORT_MAX_ZIP_RATIO = env_int("IMPORT_MAX_ZIP_RATIO", 100, minimum=1)
IMPORT_MAX_ARTICLES = env_int("IMPORT_MAX_ARTICLES", 100_000, minimum=1)
# Django's own upload ceilings follow the import limit so an oversized upload fails early.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024, minimum=1)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024, minimum=1)
# A body larger than any import may be is refused from its Content-Length, before it is read.
FILE_UPLOAD_HANDLERS = [
    "annotator.uploads.UploadSizeLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# How long an unfinished assignment holds an article before it returns to the pool.
ASSIGNMENT_TIMEOUT_MINUTES = env_int("ASSIGNMENT_TIMEOUT_MINUTES", 24 * 60, minimum=1)

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Off only for plain-HTTP loopback runs (bench/load/); a real deployment keeps them on.
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# Django's database sessions, loaded with plain SQL (annotator/sessions.py).
SESSION_ENGINE = "annotator.sessions"
# The CSRF token reaches htmx through the page (hx-headers on <body>), never through
# JavaScript reading the cookie.
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy: every script, style and image comes from our own origin, so an
# injected <script> or inline handler cannot run. Pages keep scripts in static/ files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        # No page sets <base>; 'none' stops an injected one from redirecting relative URLs.
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failed sign-ins for one username from
# one address, that pair is locked out for AXES_COOLOFF_MINUTES and sees the 429 page.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "annotator.middleware.login_locked_out"
# Behind a reverse proxy (BEHIND_PROXY=1) the client is the right-most X-Forwarded-For entry,
# the one the proxy appended: entries to its left come from the client and can be forged.
BEHIND_PROXY = env_bool("BEHIND_PROXY", default=False)
AXES_IPWARE_PROXY_ORDER = "right-most"
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if BEHIND_PROXY else ["REMOTE_ADDR"]
)

# Logs: one JSON object per line on stderr, each with the id of its request (annotator/logs.py).
# Django's own loggers write through the same handler instead of their plain-text console one;
# runserver's access lines (django.server, `make run` only) keep Django's format.
LOG_LEVEL = os.environ.get("LOG_LEVEL", "WARNING").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "annotator.logs.RequestIdFilter"}},
    "formatters": {"json": {"()": "annotator.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
            "level": LOG_LEVEL,
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False}},
}
