"""Sessions: Django's database sessions, read with plain SQL (annotator/sessions.py)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from annotator.sessions import SessionStore


def test_a_saved_session_is_read_back(db: None) -> None:
    store = SessionStore()
    store["answer"] = 42
    store.save()

    assert SessionStore(store.session_key)["answer"] == 42


def test_expired_and_unknown_sessions_start_empty(db: None) -> None:
    store = SessionStore()
    store["answer"] = 42
    store.save()
    Session.objects.filter(pk=store.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    expired = SessionStore(store.session_key)
    unknown = SessionStore("x" * 32)

    assert dict(expired.items()) == {} and expired.session_key is None
    assert dict(unknown.items()) == {} and unknown.session_key is None


def test_signing_in_and_out_works(client: Client, annotator: object) -> None:
    client.force_login(annotator)
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302
