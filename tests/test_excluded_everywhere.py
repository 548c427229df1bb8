"""Excluded sentences (page furniture) count nowhere: not in statistics, the curation queue,
the articles table's figures, exports (unless `include_excluded`, which flags them), the
dataset card or releases. Their labels stay in the database."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from io import StringIO

import pytest
from django.contrib.auth.models import AbstractUser
from django.core.management import call_command
from rest_framework.test import APIClient

from annotator import article_stats
from annotator.curating import Unit, disputed_sentences
from annotator.export_queries import ExportRequest, dataset_card, stream_export
from annotator.models import Annotation, Article, ArticleStats, Corpus, Layer
from annotator.releases.building import read_chunks
from annotator.resegmenting import set_excluded
from annotator.statistics import corpus_statistics
from annotator.tokens import create_token
from tests.factories import sentence_ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def article(
    corpus: Corpus,
    manager: AbstractUser,
    annotator: AbstractUser,
    other_annotator: AbstractUser,
    make_article: Callable[..., Article],
    make_annotation: Callable[..., Annotation],
) -> Article:
    """Three sentences, all labelled twice; the second is disputed, then excluded."""
    article = make_article(
        corpus=corpus, text="Prices rose. Subscribe now. Officials agreed.", external_id="a.txt"
    )
    values = {0: ("opinion", "opinion"), 1: ("opinion", "factual_claim"), 2: ("opinion",) * 2}
    for sentence in article.sentences.all():
        for who, value in zip((annotator, other_annotator), values[sentence.ordinal], strict=True):
            make_annotation(sentence=sentence, annotator=who, value=value)
    set_excluded(
        article_id=article.pk, sentence_ids=sentence_ids(article, 1), excluded=True, by=manager
    )
    return article


def export(corpus: Corpus, **options: object) -> str:
    return b"".join(stream_export(corpus, ExportRequest(**options))).decode()


def test_statistics_leave_excluded_sentences_out(corpus: Corpus, article: Article) -> None:
    claim = next(
        layer
        for layer in corpus_statistics(corpus, replicates=10)["layers"]
        if layer["layer"] == Layer.CLAIM_TYPE
    )
    assert claim["n_ratings_total"] == 4
    assert claim["percent_agreement"] == 1.0
    assert Annotation.objects.count() == 6  # the labels are kept


def test_curation_queue_skips_excluded_sentences(corpus: Corpus, article: Article) -> None:
    assert not disputed_sentences(corpus, Unit(Layer.CLAIM_TYPE, None)).exists()


def test_article_figures_leave_excluded_sentences_out(article: Article) -> None:
    article_stats.refresh_figures(article_ids=[article.pk])
    stats = ArticleStats.objects.get(article=article)
    assert (stats.sentences, stats.labels, stats.disputed) == (2, 4, 0)


def test_export_leaves_them_out_and_include_excluded_flags_them(
    corpus: Corpus, article: Article
) -> None:
    default = [json.loads(line) for line in export(corpus).splitlines()]
    assert [record["text"] for record in default] == ["Prices rose.", "Officials agreed."]
    assert "excluded" not in default[0]
    assert default[1]["previous_text"] == "Prices rose."
    included = [json.loads(line) for line in export(corpus, include_excluded=True).splitlines()]
    assert [(r["text"], r["excluded"]) for r in included] == [
        ("Prices rose.", False),
        ("Subscribe now.", True),
        ("Officials agreed.", False),
    ]
    assert list(included[1])[-4:] == [
        "excluded",
        "schema_version",
        "segmenter",
        "segmenter_version",
    ]


def test_long_and_csv_exports_follow_the_option(corpus: Corpus, article: Article) -> None:
    long_rows = [json.loads(line) for line in export(corpus, shape="long").splitlines()]
    assert len(long_rows) == 4
    rows = list(csv.DictReader(io.StringIO(export(corpus, encoding="csv", include_excluded=True))))
    assert [row["excluded"] for row in rows] == ["False", "True", "False"]
    long_csv = list(
        csv.DictReader(
            io.StringIO(export(corpus, encoding="csv", shape="long", include_excluded=True))
        )
    )
    assert sorted(row["excluded"] for row in long_csv) == ["False"] * 4 + ["True"] * 2


def test_the_command_and_the_api_take_the_same_option(
    corpus: Corpus, article: Article, manager: AbstractUser
) -> None:
    out = StringIO()
    call_command("export_dataset", corpus.slug, "--include-excluded", stdout=out)
    assert len(out.getvalue().splitlines()) == 3
    default = StringIO()
    call_command("export_dataset", corpus.slug, stdout=default)
    assert len(default.getvalue().splitlines()) == 2
    _, token = create_token(user=manager, name="tests")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api.get(f"/api/v1/corpora/{corpus.slug}/export/?include_excluded=1")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert [json.loads(line)["excluded"] for line in lines] == [False, True, False]


def test_the_export_page_offers_the_option(client, corpus: Corpus, manager: AbstractUser) -> None:
    client.force_login(manager)
    html = client.get(f"/corpora/{corpus.slug}/export/").content.decode()
    assert 'name="include_excluded"' in html


def test_dataset_card_and_releases_leave_them_out(corpus: Corpus, article: Article) -> None:
    counts = dataset_card(corpus, replicates=10)["counts"]
    assert (counts["sentences"], counts["annotations"]) == (2, 4)
    (chunk,) = list(read_chunks(corpus))
    assert chunk.sentences.column("text").to_pylist() == ["Prices rose.", "Officials agreed."]
    assert chunk.annotations.num_rows == 4
