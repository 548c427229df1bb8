"""GET /api/v1/corpora/{slug}/export/: streamed JSONL/CSV records, options, access, card."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pandas
import pytest
from django.contrib.auth.models import AbstractUser
from rest_framework.test import APIClient

from annotator.models import Article, Corpus, GoldLabel, GoldMethod, LabelChoice, Layer
from annotator.segmentation import SEGMENTER_VERSION

pytestmark = pytest.mark.django_db


def body_of(response: object) -> str:
    assert response.status_code == 200, getattr(response, "data", response)
    return b"".join(response.streaming_content).decode("utf-8")


def records(response: object) -> list[dict]:
    return [json.loads(line) for line in body_of(response).splitlines()]


def url(corpus: Corpus, **params: str) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"/api/v1/corpora/{corpus.slug}/export/" + (f"?{query}" if query else "")


def test_jsonl_has_one_record_per_sentence_with_labels_majority_and_agreement(
    corpus: Corpus,
    manager: AbstractUser,
    labelled_article: Article,
    token_client: Callable[[AbstractUser], APIClient],
) -> None:
    response = token_client(manager).get(url(corpus))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    rows = records(response)
    sentences = list(labelled_article.sentences.order_by("ordinal"))
    assert [row["sentence_index"] for row in rows] == [s.ordinal for s in sentences]
    first, second, third = rows
    assert labelled_article.text[first["start"] : first["end"]] == first["text"]
    assert first["previous_text"] is None and first["next_text"] == second["text"]
    assert third["next_text"] is None and third["previous_text"] == second["text"]
    assert first["claim_type"]["majority"] == "factual_claim"
    assert first["claim_type"]["agreement"] == 1.0
    assert first["claim_type"]["distribution"]["factual_claim"] == 2
    assert first["claim_type"]["distribution"]["opinion"] == 0
    # Two annotators, two different labels: no majority, no agreeing pair.
    assert second["claim_type"]["majority"] is None
    assert second["claim_type"]["agreement"] == 0.0
    labels = {entry["annotator"]: entry for entry in second["labels"]}
    assert labels["annotator"]["claim_type"] == "opinion"
    assert labels["annotator"]["stance"] == {"China–North Korea alliance": "against"}
    assert labels["other-annotator"]["stance"] == {"China–North Korea alliance": None}
    assert third["labels"] == [] and third["claim_type"]["agreement"] is None
    assert {row["schema_version"] for row in rows} == {corpus.schema_version}
    assert first["corpus"] == "korea" and first["external_id"] == "korea-1.txt"


def test_records_load_with_pandas(
    corpus: Corpus,
    manager: AbstractUser,
    labelled_article: Article,
    token_client: Callable[[AbstractUser], APIClient],
) -> None:
    response = token_client(manager).get(url(corpus))

    frame = pandas.read_json(io.StringIO(body_of(response)), lines=True)

    assert len(frame) == labelled_article.sentences.count()
    assert {"text", "start", "end", "labels", "claim_type", "stance"} <= set(frame.columns)
    assert frame.loc[0, "claim_type"]["majority"] == "factual_claim"


def test_anonymize_replaces_usernames_with_stable_pseudonyms(
    corpus: Corpus,
    manager: AbstractUser,
    labelled_article: Article,
    token_client: Callable[[AbstractUser], APIClient],
) -> None:
    client = token_client(manager)

    body = body_of(client.get(url(corpus, anonymize="1")))
    again = body_of(client.get(url(corpus, anonymize="1")))

    assert "other-annotator" not in body and '"annotator"' in body
    assert body == again
    names = {e["annotator"] for row in map(json.loads, body.splitlines()) for e in row["labels"]}
    assert len(names) == 2 and all(name.startswith("annotator-") for name in names)


def test_csv_neutralises_formula_cells(
    corpus: Corpus,
    manager: AbstractUser,
    labelled_article: Article,
    token_client: Callable[[AbstractUser], APIClient],
) -> None:
    response = token_client(manager).get(url(corpus, format="csv"))

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body_of(response))))
    assert len(rows) == 3
    assert rows[2]["text"] == "'=SUM(A1) says a reader."
    assert rows[0]["claim_type_majority"] == "factual_claim"


def test_long_format_has_one_row_per_annotation(
    corpus: Corpus,
    manager: AbstractUser,
    labelled_article: Article,
    token_client: Callable[[AbstractUser], APIClient],
) -> None:
    rows = records(token_client(manager).get(url(corpus, shape="long")))

    assert len(rows) == 5
    assert {row["layer"] for row in rows} == {"claim_type", "stance"}
    stance = next(row for row in rows if row["layer"] == "stance")
    assert stance["target"] == "China–North Korea alliance" and stance["label"] == "against"


def test_layer_and_only_gold_options(
    corpus: Corpus,
    manager: AbstractUser,
    labelled_article: Article,
    token_client: Callable[[AbstractUser], APIClient],
) -> None:
    first = labelled_article.sentences.get(ordinal=0)
    GoldLabel.objects.create(
        sentence=first,
        layer=Layer.CLAIM_TYPE,
        choice=LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value="opinion"),
        method=GoldMethod.ADJUDICATED,
        decided_by=manager,
    )

    rows = records(token_client(manager).get(url(corpus, layer="claim_type", only_gold="1")))

    assert [row["sentence_id"] for row in rows] == [first.pk]
    assert rows[0]["claim_type"]["gold"] == "opinion"
    assert rows[0]["claim_type"]["gold_method"] == "adjudicated"
    assert "stance" not in rows[0]
    assert all("stance" not in entry for entry in rows[0]["labels"])


def test_annotators_and_outsiders_cannot_export(
    corpus: Corpus,
    annotator: AbstractUser,
    outsider: AbstractUser,
    token_client: Callable[[AbstractUser], APIClient],
) -> None:
    assert token_client(annotator).get(url(corpus)).status_code == 403
    assert token_client(outsider).get(url(corpus)).status_code == 404
    assert token_client(outsider).get(url(corpus) + "card/").status_code == 404


def test_bad_option_is_a_400_in_the_error_format(
    corpus: Corpus, manager: AbstractUser, token_client: Callable[[AbstractUser], APIClient]
) -> None:
    client = token_client(manager)

    bad_format = client.get(url(corpus, format="xlsx"))
    unknown = client.get(url(corpus, annotator__password__startswith="a"))

    assert bad_format.status_code == 400
    assert bad_format.json()["error"]["code"] == "invalid"
    assert "format" in bad_format.json()["error"]["fields"]
    assert unknown.status_code == 400
    assert "annotator__password__startswith" in unknown.json()["error"]["fields"]


def test_dataset_card_describes_fields_labels_and_agreement(
    corpus: Corpus,
    curator: AbstractUser,
    labelled_article: Article,
    token_client: Callable[[AbstractUser], APIClient],
) -> None:
    response = token_client(curator).get(f"/api/v1/corpora/{corpus.slug}/export/card/")

    assert response.status_code == 200
    card = response.json()
    assert card["counts"]["sentences"] == 3 and card["counts"]["annotations"] == 5
    assert [c["value"] for c in card["labels"]["claim_type"]][0] == "factual_claim"
    assert "previous_text" in card["fields"]
    assert {row["layer"] for row in card["agreement"]} == {"claim_type", "stance"}


def test_records_csv_and_card_name_the_segmenter_version_of_each_article(
    corpus: Corpus,
    curator: AbstractUser,
    labelled_article: Article,
    make_article: Callable[..., Article],
    token_client: Callable[[AbstractUser], APIClient],
) -> None:
    older = make_article(corpus=corpus, text="Split long ago. By another version.")
    Article.objects.filter(pk=older.pk).update(segmenter_version="0")
    client = token_client(curator)
    expected = {labelled_article.external_id: SEGMENTER_VERSION, older.external_id: "0"}

    wide = records(client.get(url(corpus)))
    long = records(client.get(url(corpus, shape="long")))
    table = list(csv.DictReader(io.StringIO(body_of(client.get(url(corpus, format="csv"))))))
    card = client.get(f"/api/v1/corpora/{corpus.slug}/export/card/").json()

    for rows in (wide, long, table):
        assert rows
        assert {row["segmenter"] for row in rows} == {"annotator.segmentation"}
        assert {row["external_id"]: row["segmenter_version"] for row in rows} == {
            key: value for key, value in expected.items() if key in {r["external_id"] for r in rows}
        }
    assert {row["external_id"] for row in wide} == set(expected)
    assert card["segmenter"] == {
        "name": "annotator.segmentation",
        "current_version": SEGMENTER_VERSION,
        "articles_per_version": {SEGMENTER_VERSION: 1, "0": 1},
    }
    assert "segmenter_version" in card["fields"] and "segmenter_version" in card["long_fields"]


def test_command_writes_the_same_records_as_the_api(
    corpus: Corpus,
    manager: AbstractUser,
    labelled_article: Article,
    token_client: Callable[[AbstractUser], APIClient],
    tmp_path: object,
) -> None:
    from django.core.management import call_command

    api_records = records(token_client(manager).get(url(corpus, format="jsonl")))
    stdout = io.StringIO()
    call_command("export_dataset", corpus.slug, stdout=stdout)
    output = tmp_path / "export.csv"
    call_command("export_dataset", corpus.slug, "--format", "csv", "--output", str(output))

    assert [json.loads(line) for line in stdout.getvalue().splitlines()] == api_records
    assert len(list(csv.DictReader(output.open(encoding="utf-8")))) == len(api_records)


def test_command_card_and_unknown_corpus(corpus: Corpus, labelled_article: Article) -> None:
    from django.core.management import CommandError, call_command

    stdout = io.StringIO()
    call_command("export_dataset", corpus.slug, "--card", stdout=stdout)

    assert json.loads(stdout.getvalue())["counts"]["sentences"] == 3
    with pytest.raises(CommandError, match="No corpus with slug 'nope'"):
        call_command("export_dataset", "nope")


def test_export_never_includes_another_corpus_interleaved_in_id_order(
    corpus: Corpus,
    manager: AbstractUser,
    make_corpus: Callable[..., Corpus],
    make_member: Callable[..., AbstractUser],
    make_article: Callable[..., Article],
    label: Callable[..., None],
    token_client: Callable[[AbstractUser], APIClient],
    settings: object,
) -> None:
    settings.EXPORT_CHUNK_SIZE = 100  # all three articles in one id range
    other = make_corpus(slug="other")
    stranger = make_member(corpus=other, username="stranger")
    mine_1 = make_article(corpus=corpus, text="Mine one. Mine two.")
    theirs = make_article(corpus=other, text="Secret one. Secret two.")
    mine_2 = make_article(corpus=corpus, text="Mine three. Mine four.")
    label(sentence=theirs.sentences.first(), annotator=stranger, value="opinion")

    body = body_of(token_client(manager).get(url(corpus)))

    assert "Secret" not in body and "stranger" not in body
    assert {json.loads(line)["article_id"] for line in body.splitlines()} == {
        mine_1.pk,
        mine_2.pk,
    }


def test_only_complete_keeps_articles_every_annotator_finished(
    corpus: Corpus,
    manager: AbstractUser,
    annotator: AbstractUser,
    other_annotator: AbstractUser,
    labelled_article: Article,
    make_article: Callable[..., Article],
    token_client: Callable[[AbstractUser], APIClient],
) -> None:
    from annotator.models import Assignment, AssignmentStatus

    unfinished = make_article(corpus=corpus, text="Not done yet. Still open.")
    for user in (annotator, other_annotator):
        Assignment.objects.create(
            article=labelled_article, annotator=user, status=AssignmentStatus.DONE
        )
    Assignment.objects.create(article=unfinished, annotator=annotator, status=AssignmentStatus.DONE)

    rows = records(token_client(manager).get(url(corpus, only_complete="1")))

    assert {row["article_id"] for row in rows} == {labelled_article.pk}


def test_date_range_keeps_sentences_with_labels_changed_in_it(
    corpus: Corpus,
    manager: AbstractUser,
    labelled_article: Article,
    token_client: Callable[[AbstractUser], APIClient],
) -> None:
    client = token_client(manager)

    recent = records(client.get(url(corpus, since="2000-01-01T00:00:00Z")))
    future = records(client.get(url(corpus, since="2999-01-01T00:00:00Z")))
    backwards = client.get(url(corpus, since="2001-01-01T00:00:00Z", until="2000-01-01T00:00:00Z"))

    assert [row["sentence_index"] for row in recent] == [0, 1]
    assert future == []
    assert backwards.status_code == 400 and "until" in backwards.json()["error"]["fields"]


@pytest.mark.django_db(transaction=True)
def test_api_export_from_the_niced_thread_matches_the_inline_export(
    settings: object,
    corpus: Corpus,
    manager: AbstractUser,
    labelled_article: Article,
    token_client: Callable[[AbstractUser], APIClient],
) -> None:
    client = token_client(manager)
    url = f"/api/v1/corpora/{corpus.slug}/export/?format=jsonl"

    settings.EXPORT_NICENESS = 0
    inline = b"".join(client.get(url).streaming_content)
    settings.EXPORT_NICENESS = 10
    niced = b"".join(client.get(url).streaming_content)

    assert niced == inline
    assert niced.count(b"\n") == labelled_article.sentences.count()
