"""CSV formula injection: every free text that reaches an export (article text, titles, ids,
URLs, stance target names, notes, usernames) is planted with spreadsheet formula triggers
(`=`, `+`, `-`, `@`, tab, carriage return). In every CSV the API or the command writes, wide and
long, no cell may start with a trigger unless it is a plain number; the planted texts must be
there, neutralised with a leading apostrophe. The encoder itself is unit-tested in
tests/test_exporting.py.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import AbstractUser
from django.core.management import call_command

from annotator.annotating import save_label, save_note
from annotator.models import (
    Assignment,
    Corpus,
    LabelChoice,
    Layer,
    Membership,
    Role,
    Sentence,
    StanceTarget,
)
from annotator.tokens import create_token
from tests.factories import create_article

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TEXT = (
    '=HYPERLINK("http://evil.example","click") is what it said. '
    "+1+1 was the answer. -2+3 followed. @SUM(A1:A9) ended it."
)


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def dangerous(rows: list[list[str]]) -> list[str]:
    return [
        cell for row in rows for cell in row if cell.startswith(TRIGGERS) and not is_number(cell)
    ]


@pytest.fixture
def planted(make_user: Callable[..., AbstractUser]) -> tuple[Corpus, AbstractUser]:
    corpus = Corpus.objects.create(name="Formulas", slug="formulas")
    corpus.ensure_default_schema()
    target = StanceTarget.objects.create(corpus=corpus, name="=cmd|' /C calc'!A0")
    article = create_article(
        corpus=corpus,
        text=TEXT,
        external_id="+evil.txt",
        title="\t=1+1",
    )
    manager = make_user(username="boss")
    Membership.objects.create(user=manager, corpus=corpus, role=Role.MANAGER)
    opinion = LabelChoice.objects.get(corpus=corpus, value="opinion")
    favor = LabelChoice.objects.get(corpus=corpus, value="favor")
    # Django's username rules allow these first characters.
    for username in ("@evil", "-evil", "+evil"):
        user = make_user(username=username)
        Membership.objects.create(user=user, corpus=corpus, role=Role.ANNOTATOR)
        Assignment.objects.create(article=article, annotator=user)
        for sentence in Sentence.objects.select_related("article").filter(article=article):
            save_label(
                sentence=sentence,
                annotator=user,
                layer=Layer.CLAIM_TYPE,
                target=None,
                choice=opinion,
            )
            save_label(
                sentence=sentence, annotator=user, layer=Layer.STANCE, target=target, choice=favor
            )
            save_note(sentence=sentence, annotator=user, unsure=False, note="=WEBSERVICE(x)")
    return corpus, manager


def api_csv(corpus: Corpus, manager: AbstractUser, **params: str) -> list[list[str]]:
    from django.test import Client

    client = Client(headers={"Authorization": f"Bearer {create_token(user=manager, name='t')[1]}"})
    query = "&".join(f"{k}={v}" for k, v in {"format": "csv", **params}.items())
    response = client.get(f"/api/v1/corpora/{corpus.slug}/export/?{query}")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body, newline="")))


@pytest.mark.parametrize("shape", ["wide", "long"])
def test_api_csv_export_neutralises_every_formula_cell(
    planted: tuple[Corpus, AbstractUser], shape: str
) -> None:
    corpus, manager = planted

    rows = api_csv(corpus, manager, shape=shape)

    assert len(rows) > 4
    assert dangerous(rows) == []
    cells = {cell for row in rows for cell in row}
    assert "'+evil.txt" in cells
    if shape == "wide":
        assert "'\t=1+1" in cells  # the title
        assert any(cell.startswith("'=HYPERLINK(") for cell in cells)
        assert any(cell.startswith("'@SUM(") for cell in cells)
    else:
        assert {"'@evil", "'-evil", "'+evil"} <= cells
        assert "'=cmd|' /C calc'!A0" in cells


@pytest.mark.parametrize("extra", [[], ["--long"], ["--layer", "stance", "--long"]])
def test_command_csv_export_neutralises_every_formula_cell(
    planted: tuple[Corpus, AbstractUser], tmp_path: Path, extra: list[str]
) -> None:
    corpus, _ = planted
    output = tmp_path / "export.csv"

    call_command("export_dataset", corpus.slug, "--format", "csv", *extra, "--output", str(output))

    rows = list(csv.reader(output.open(encoding="utf-8", newline="")))
    assert len(rows) > 4
    assert dangerous(rows) == []
    assert "'+evil.txt" in {cell for row in rows for cell in row}
