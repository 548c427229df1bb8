"""Test settings: the real settings, on PostgreSQL by default, with fast password hashing."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/annotator")
os.environ.setdefault("DEBUG", "1")
# Tests see only their own environment, never a developer's .env (nor do the processes they start).
os.environ.setdefault("ENV_FILE", "")

from annotator.settings import *  # noqa: E402,F403

# Hashing strength is not under test; a fast hasher keeps user fixtures cheap.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Web uploads run inline in tests so the import path is exercised end to end.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# Login throttling is off so `client.login` works everywhere (django-axes needs the request);
# tests/security/test_login_throttling.py turns it on.
AXES_ENABLED = False
# Static files come from the source folders: no collectstatic before tests.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# WhiteNoise looks files up per request instead of scanning an absent STATIC_ROOT at start-up.
WHITENOISE_AUTOREFRESH = True
# The export's low-priority thread has its own connection and would not see a test's
# uncommitted rows; tests/test_background_stream.py covers that path with committed data.
EXPORT_NICENESS = 0
# Tests that need the pacing set it themselves; the rest run at full speed.
EXPORT_DUTY_CYCLE = 1.0
IMPORT_DUTY_CYCLE = 1.0
# Release files (annotator/releases/) go to a scratch folder that disappears with the run, never
# into the repository's media/; tests/releases/ give each test a folder of its own.
_RELEASES = tempfile.mkdtemp(prefix="test-releases-")
atexit.register(shutil.rmtree, _RELEASES, ignore_errors=True)
STORAGES["releases"] = {  # noqa: F405
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": _RELEASES},
}
