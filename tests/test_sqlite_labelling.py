"""Smoke test: labelling works on SQLite, the database `make run` uses without DATABASE_URL.

On PostgreSQL a label save is one SQL statement; every other database takes the plain ORM path
(annotating.py). This drives that path through the real views, in a subprocess on a fresh
SQLite file: take an article, save a claim type and a stance (htmx), change one, save a note,
undo, and be refused on an article that is not yours.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import json
from django.contrib.auth import get_user_model
from django.test import Client
from annotator.forms import label_value
from annotator.models import Annotation, AnnotationHistory, Assignment, Corpus, SentenceNote

corpus = Corpus.objects.get(slug="demo")
user = get_user_model().objects.get(username="demo-annotator-1")
client = Client()
client.force_login(user)
client.post(f"/corpora/{corpus.slug}/next/")
article = Assignment.objects.get(annotator=user).article
first, second = article.sentences.order_by("ordinal")[:2]
opinion = corpus.choices.get(value="opinion")
factual = corpus.choices.get(value="factual_claim")
against = corpus.choices.get(value="against")
target = corpus.stance_targets.get()

def label(sentence, value):
    response = client.post(
        f"/sentences/{sentence.pk}/label/", {"label": value, "seconds": "2"}, HTTP_HX_REQUEST="true"
    )
    return response.status_code, 'aria-pressed="true"' in response.content.decode()

out = {
    "claim": label(first, label_value(opinion)),
    "stance": label(first, label_value(against, target)),
    "change": label(first, label_value(factual)),
    "note": client.post(
        f"/sentences/{first.pk}/note/", {"unsure": "on", "note": "hm"}, HTTP_HX_REQUEST="true"
    ).status_code,
    "undo": client.post(f"/articles/{article.pk}/undo/", HTTP_HX_REQUEST="true").status_code,
}
other = corpus.articles.exclude(pk=article.pk).first().sentences.first()
out["refused"] = label(other, label_value(opinion))[0]
out["labels"] = sorted(
    Annotation.objects.filter(annotator=user).values_list("sentence_id", "choice__value")
)
out["history"] = list(
    AnnotationHistory.objects.order_by("id").values_list("old_value", "new_value")
)
out["note_saved"] = SentenceNote.objects.filter(annotator=user, unsure=True).count()
out["first"] = first.pk
print("RESULT " + json.dumps(out))
"""


def manage(database: Path, *args: str) -> str:
    environment = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{database}",
        "ALLOWED_HOSTS": "testserver",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_labelling_works_on_sqlite(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite3"
    manage(database, "migrate", "--noinput")
    manage(database, "setup_demo")

    output = manage(database, "shell", "-c", SCRIPT)
    result = json.loads(output.split("RESULT ", 1)[1])

    assert result["claim"] == result["stance"] == result["change"] == [200, True]
    assert result["note"] == 200 and result["note_saved"] == 1
    assert result["undo"] == 200
    assert result["refused"] == 403
    # The change to factual_claim was undone: the claim is back to opinion, the stance stays.
    assert result["labels"] == [[result["first"], "against"], [result["first"], "opinion"]]
    assert result["history"] == [
        ["", "opinion"],
        ["", "against"],
        ["opinion", "factual_claim"],
        ["factual_claim", "opinion"],
    ]
