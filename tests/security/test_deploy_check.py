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
    "ENV_FILE",
}


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`manage.py` in a fresh interpreter on the production settings, with `env` on top of a
    clean environment (no DEBUG, no SECRET_KEY from the caller, no .env unless ENV_FILE)."""
    clean = {key: value for key, value in os.environ.items() if key not in DEPLOYMENT_VARIABLES}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "annotator.settings", "ENV_FILE": "", **env},
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


# --- The local .env that `make run` writes ------------------------------------------------


@pytest.fixture
def made_env_file(tmp_path: Path) -> Path:
    """The .env of `make run`, made by the Makefile's own rule in an empty folder."""
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-f",
            str(BASE_DIR / "Makefile"),
            "-C",
            str(tmp_path),
            ".env",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return tmp_path / ".env"


def test_make_writes_a_private_env_file_once_and_never_overwrites_it(
    made_env_file: Path, tmp_path: Path
) -> None:
    lines = made_env_file.read_text().splitlines()
    settings_lines = [line for line in lines if line and not line.startswith("#")]
    keys = dict(line.split("=", 1) for line in settings_lines)

    assert set(keys) == {"DEBUG", "SECRET_KEY"}
    assert keys["DEBUG"] == "1"
    assert keys["SECRET_KEY"].startswith("django-insecure-") and len(keys["SECRET_KEY"]) > 70
    assert made_env_file.stat().st_mode & 0o777 == 0o600

    made_env_file.write_text("DEBUG=1\nSECRET_KEY=kept-as-the-developer-left-it\n")
    again = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-f",
            str(BASE_DIR / "Makefile"),
            "-C",
            str(tmp_path),
            ".env",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0
    assert "kept-as-the-developer-left-it" in made_env_file.read_text()


def test_settings_read_the_env_file_so_commands_work_without_exporting_anything(
    made_env_file: Path,
) -> None:
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)",
        ENV_FILE=str(made_env_file),
    )

    assert result.returncode == 0, result.stderr
    debug, key = result.stdout.split()[-2:]
    assert debug == "True"
    assert key in made_env_file.read_text()


def test_the_environment_wins_over_the_env_file(made_env_file: Path) -> None:
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        ENV_FILE=str(made_env_file),
        SECRET_KEY="from-the-environment",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "from-the-environment"


def test_production_refuses_the_development_key_of_the_env_file(made_env_file: Path) -> None:
    # DEBUG=0 from the environment (as `make serve` sets it) with the key `make run` generated.
    result = run_manage(
        "check", ENV_FILE=str(made_env_file), DEBUG="0", ALLOWED_HOSTS="annotate.example.org"
    )

    assert result.returncode != 0
    assert "SECRET_KEY is the development default" in result.stderr
