"""Production settings pass `check --deploy`, and the app refuses to start without a real key."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
# Variables a developer's shell or another test (the browser tests set
# DJANGO_ALLOW_ASYNC_UNSAFE) may hold that would change what the deploy check sees.
DEPLOYMENT_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
}


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`manage.py` in a fresh interpreter on the production settings, with `env` on top of a
    clean environment (no DEBUG, no SECRET_KEY from the caller)."""
    clean = {key: value for key, value in os.environ.items() if key not in DEPLOYMENT_VARIABLES}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "annotator.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_production_settings() -> None:
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="annotate.example.org",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_a_protection_is_switched_off() -> None:
    # The test above must be able to fail: turning off the HTTPS redirect is a deploy warning.
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="annotate.example.org",
        SECURE_SSL_REDIRECT="0",
    )

    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("secret_key", "message"),
    [
        (None, "SECRET_KEY is not set"),
        ("", "SECRET_KEY is not set"),
        (
            "django-insecure-development-only-key-do-not-use-in-production",
            "SECRET_KEY is the development default",
        ),
    ],
    ids=["missing", "empty", "development-key"],
)
def test_production_refuses_to_start_without_a_real_secret_key(
    secret_key: str | None, message: str
) -> None:
    env = {"ALLOWED_HOSTS": "annotate.example.org"}
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key

    result = run_manage("check", **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_production_settings_serve_static_files_compressed_with_hashed_names() -> None:
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.STORAGES['staticfiles']['BACKEND'])",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="annotate.example.org",
    )

    assert result.returncode == 0, result.stderr
    last_line = result.stdout.strip().splitlines()[-1]
    assert last_line == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_a_bad_duty_cycle_setting_stops_start_up_naming_the_variable() -> None:
    result = run_manage(
        "check",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="annotate.example.org",
        EXPORT_DUTY_CYCLE="0",
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "EXPORT_DUTY_CYCLE must be above 0 and at most 1, got 0" in result.stderr
