"""Stance target slugs: set once from the name, unique per corpus, filled in by the migration."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from annotator.models import Corpus, StanceTarget, target_slug


@pytest.mark.parametrize(
    ("name", "taken", "expected"),
    [
        ("China–North Korea alliance", set(), "china-north-korea-alliance"),
        ("Café au lait", set(), "cafe-au-lait"),
        ("北京", set(), "target"),
        ("Tariffs", {"tariffs"}, "tariffs-2"),
        ("Tariffs", {"tariffs", "tariffs-2"}, "tariffs-3"),
    ],
)
def test_target_slug(name: str, taken: set[str], expected: str) -> None:
    assert target_slug(name, taken=taken) == expected


@pytest.mark.django_db
def test_slug_is_unique_per_corpus_and_survives_renaming(make_corpus) -> None:
    corpus: Corpus = make_corpus(targets=("Tariffs",))
    first = corpus.stance_targets.get()
    first.name = "Trade war"
    first.save()
    second = StanceTarget.objects.create(corpus=corpus, name="Tariffs!")
    assert (first.slug, second.slug) == ("tariffs", "tariffs-2")
    other = make_corpus(targets=("Tariffs",)).stance_targets.get()
    assert other.slug == "tariffs"


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_slugs_of_existing_targets() -> None:
    before = [("annotator", "0002_history_undo_of")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    corpus = apps.get_model("annotator", "Corpus").objects.create(name="Old", slug="old")
    Target = apps.get_model("annotator", "StanceTarget")
    Target.objects.create(corpus=corpus, name="China–North Korea", order=0)
    Target.objects.create(corpus=corpus, name="China North Korea!", order=1)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("annotator"))

    slugs = list(
        StanceTarget.objects.filter(corpus__slug="old")
        .order_by("order")
        .values_list("slug", flat=True)
    )
    assert slugs == ["china-north-korea", "china-north-korea-2"]
    assert Corpus.objects.get(slug="old").schema_version == 1  # filling slugs is no schema change


@pytest.mark.django_db
def test_the_api_schema_lists_each_targets_slug(corpus: Corpus, manager: object) -> None:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(manager)
    targets = client.get(f"/api/v1/corpora/{corpus.slug}/schema/").json()["stance_targets"]
    assert [(t["name"], t["slug"]) for t in targets] == [
        ("China–North Korea alliance", "china-north-korea-alliance")
    ]
