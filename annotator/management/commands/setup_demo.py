"""`manage.py setup_demo`: the demo corpus, its samples and three demo accounts (idempotent)."""

from __future__ import annotations

import secrets
from argparse import ArgumentParser

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from annotator.corpora import add_member, save_target
from annotator.importing import import_articles
from annotator.models import Corpus, Membership, Role, StanceTarget

DEMO_SLUG = "demo"
DEMO_NAME = "Demo: China and North Korea"
DEMO_TARGET = "China–North Korea alliance"
DEMO_GUIDELINES = """\
# Guidelines

Label **every sentence** of the article on two layers.

## Claim type

- **Factual claim** — states something that could be checked: *"Trade fell 12% in 2023."*
- **Opinion** — a judgement, prediction or value: *"It's horrible news for the West."*
- **User comment** — text written by readers below the article, not by the outlet.
- **Not a claim** — headlines without a claim, bylines, captions, boilerplate, questions.

## Stance toward the China–North Korea alliance

- **Favor** — the sentence presents closer ties as good, or argues for them.
- **Against** — it presents them as a threat or argues against them.
- **Neutral** — it reports without taking a side, or does not concern the alliance.

When unsure, pick the closest label and flag the sentence as *unsure* with a short note.
"""
DEMO_USERS = (
    ("demo-manager", Role.MANAGER, True),
    ("demo-annotator-1", Role.ANNOTATOR, False),
    ("demo-annotator-2", Role.ANNOTATOR, False),
)


class Command(BaseCommand):
    help = (
        "Create the demo corpus from samples/ and the accounts demo-manager, demo-annotator-1 "
        "and demo-annotator-2. Passwords are printed once, when an account is created; running "
        "it again creates nothing twice."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--samples",
            default=str(settings.BASE_DIR / "samples"),
            help="Folder of articles to import (default: samples/).",
        )

    def handle(self, *args: object, samples: str, **options: object) -> None:
        with transaction.atomic():
            corpus, created = Corpus.objects.get_or_create(
                slug=DEMO_SLUG,
                defaults={
                    "name": DEMO_NAME,
                    "description": "Five scraped news articles about China and North Korea.",
                    "guidelines": DEMO_GUIDELINES,
                },
            )
            corpus.ensure_default_schema()
            if not corpus.stance_targets.exists():
                save_target(target=StanceTarget(corpus=corpus, name=DEMO_TARGET))
        self.stdout.write(f"Corpus {corpus.slug!r} {'created' if created else 'already exists'}.")

        summary = import_articles(corpus=corpus, sources=[samples])
        self.stdout.write(
            f"Articles: {summary.imported} imported, {summary.skipped} already present."
        )

        new_passwords = []
        User = get_user_model()
        with transaction.atomic():
            for username, role, is_staff in DEMO_USERS:
                user = User.objects.filter(username=username).first()
                if user is None:
                    password = secrets.token_urlsafe(12)
                    user = User.objects.create_user(
                        username=username, password=password, is_staff=is_staff
                    )
                    new_passwords.append((username, role, password))
                else:
                    self.stdout.write(f"User {username!r} already exists (password unchanged).")
                if not Membership.objects.filter(user=user, corpus=corpus).exists():
                    add_member(corpus=corpus, user=user, role=role)
        if new_passwords:
            self.stdout.write(self.style.WARNING("Demo accounts (passwords are shown only once):"))
            for username, role, password in new_passwords:
                self.stdout.write(f"  {username:<18} {role:<10} password: {password}")
