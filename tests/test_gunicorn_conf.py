"""gunicorn.conf.py: its access lines carry the request id the app answered with, rendered by
gunicorn's own access logger."""

from __future__ import annotations

import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

ROOT = Path(__file__).resolve().parent.parent


def test_an_access_line_names_the_request_id_and_the_time_taken(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    config = Config()
    config.set("access_log_format", settings["access_log_format"])
    config.set("accesslog", settings["accesslog"])
    logger = Logger(config)
    response = SimpleNamespace(status="200 OK", sent=512, headers=[("X-Request-ID", "3f2a9c1e7b")])
    request = SimpleNamespace(headers=[("HOST", "127.0.0.1")])
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/articles/7/label/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }

    logger.access(response, request, environ, timedelta(milliseconds=42))

    # accesslog "-" is standard output, where gunicorn writes each access line.
    [line] = capsys.readouterr().out.splitlines()
    assert '"POST /articles/7/label/ HTTP/1.1" 200 512' in line
    assert line.endswith(" 42ms request_id=3f2a9c1e7b")
