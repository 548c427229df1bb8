"""Security headers every answer carries: the Content-Security-Policy, on pages and the API."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client

pytestmark = pytest.mark.django_db


def directives(header: str) -> dict[str, str]:
    parts = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


@pytest.mark.parametrize("url", ["/accounts/login/", "/", "/api/v1/corpora/", "/no-such-page/"])
def test_content_security_policy_forbids_base_and_foreign_sources(
    annotator: AbstractUser, url: str
) -> None:
    client = Client()
    client.force_login(annotator)

    policy = directives(client.get(url)["Content-Security-Policy"])

    assert policy["base-uri"] == "'none'"
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
