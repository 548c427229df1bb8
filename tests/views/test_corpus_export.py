"""The export page: managers and curators choose options (the API's, validated by the API's
serializer), download the export (the API's own streamed response) and read the API call and
`manage.py export_dataset` command for the same export, which give the same bytes. Annotators
and outsiders get 404."""

from __future__ import annotations

import csv
import io
import json
import shlex
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib.auth.models import AbstractUser
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from annotator.models import Article, Corpus, GoldLabel, GoldMethod, LabelChoice, Layer
from annotator.tokens import create_token

HX = {"HX-Request": "true"}


def page_url(corpus: Corpus) -> str:
    return reverse("annotator:corpus-export", args=[corpus.slug])


def download_url(corpus: Corpus) -> str:
    return reverse("annotator:corpus-export-download", args=[corpus.slug])


def body_of(response: object) -> bytes:
    assert response.status_code == 200, response
    return b"".join(response.streaming_content)


@pytest.fixture
def labelled(
    corpus: Corpus,
    manager: AbstractUser,
    annotator: AbstractUser,
    other_annotator: AbstractUser,
    make_article: Callable[..., Article],
    make_annotation: Callable[..., object],
) -> Article:
    """Two articles; two annotators label three sentences of the first, disagreeing on one,
    with a stance and a gold label."""
    article = make_article(
        corpus=corpus,
        text="Pyongyang fired a missile. That was reckless.\n\n=SUM(A1) says a reader.",
        external_id="korea-1.txt",
        title="Missile test",
    )
    make_article(corpus=corpus, text="Talks resumed. Nobody commented.", external_id="k-2.txt")
    first, second, third = article.sentences.order_by("ordinal")
    for sentence, mine, theirs in (
        (first, "factual_claim", "factual_claim"),
        (second, "opinion", "factual_claim"),
        (third, "user_comment", "user_comment"),
    ):
        make_annotation(sentence=sentence, annotator=annotator, value=mine)
        make_annotation(sentence=sentence, annotator=other_annotator, value=theirs)
    make_annotation(sentence=second, annotator=annotator, value="against", layer=Layer.STANCE)
    GoldLabel.objects.create(
        sentence=first,
        layer=Layer.CLAIM_TYPE,
        choice=LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value="opinion"),
        method=GoldMethod.ADJUDICATED,
        decided_by=manager,
    )
    return article


@pytest.fixture
def curator_client(client: Client, curator: AbstractUser) -> Client:
    client.force_login(curator)
    return client


# The page ------------------------------------------------------------------------------------


def test_page_offers_every_api_option_and_shows_the_default_export(
    curator_client: Client, corpus: Corpus
) -> None:
    response = curator_client.get(page_url(corpus))

    assert response.status_code == 200
    body = response.content.decode()
    for name in ("format", "shape", "layer", "anonymize", "only_gold", "only_complete"):
        assert f'name="{name}"' in body
    assert 'type="datetime-local"' in body and 'name="since"' in body and 'name="until"' in body
    assert 'value="jsonl" checked' in body and 'value="wide" checked' in body
    curl = response.context["curl"]
    assert curl == (
        "curl -sS -H 'Authorization: Bearer <your token>' -o korea-wide.jsonl "
        "http://testserver/api/v1/corpora/korea/export/"
    )
    assert response.context["command"] == (
        ".venv/bin/python manage.py export_dataset korea -o korea-wide.jsonl"
    )
    assert "Authorization: Bearer &lt;your token&gt;" in body
    assert f'href="{reverse("annotator:token-list")}"' in body
    assert f'formaction="{download_url(corpus)}"' in body
    # A plain GET form: it works without JavaScript; htmx refreshes the commands on change.
    assert 'method="get"' in body and 'hx-trigger="change"' in body


def test_chosen_options_become_the_query_string_and_the_flags(
    curator_client: Client, corpus: Corpus
) -> None:
    response = curator_client.get(
        page_url(corpus),
        {
            "format": "csv",
            "shape": "long",
            "layer": "stance",
            "anonymize": "1",
            "only_gold": "",
            "since": "2026-05-01T09:30",
            "until": "",
        },
    )

    assert response.status_code == 200
    api_url = shlex.split(response.context["curl"])[-1]
    assert dict(parse_qsl(urlsplit(api_url).query)) == {
        "format": "csv",
        "shape": "long",
        "layer": "stance",
        "anonymize": "1",
        "since": "2026-05-01T09:30:00Z",
    }
    assert response.context["command"] == (
        ".venv/bin/python manage.py export_dataset korea --format csv --shape long "
        "--layer stance --anonymize --since 2026-05-01T09:30:00Z -o korea-long.csv"
    )
    body = response.content.decode()
    assert 'value="csv" checked' in body and 'value="long" checked' in body
    assert 'name="anonymize" value="1" checked' in body
    assert 'name="only_gold" value="1">' in body  # left unticked
    assert 'value="2026-05-01T09:30"' in body


def test_htmx_gets_the_commands_alone(curator_client: Client, corpus: Corpus) -> None:
    response = curator_client.get(page_url(corpus), {"format": "csv"}, headers=HX)

    fragment = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in fragment and fragment.lstrip().startswith("<section")
    assert 'id="export-commands"' in fragment and "--format csv" in fragment
    assert "export/?format=csv" in fragment


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"format": "xlsx"}, "format", "is not a valid choice"),
        ({"since": "2026-05-02T00:00", "until": "2026-05-01T00:00"}, "until", "Must be after"),
        ({"since": "yesterday"}, "since", "Datetime has wrong format"),
    ],
)
def test_invalid_options_are_refused_with_the_reason_as_the_api_refuses_them(
    curator_client: Client,
    curator: AbstractUser,
    corpus: Corpus,
    query: dict[str, str],
    field: str,
    message: str,
) -> None:
    page = curator_client.get(page_url(corpus), query)
    fragment = curator_client.get(page_url(corpus), query, headers=HX)
    download = curator_client.get(download_url(corpus), query)
    _, raw = create_token(user=curator, name="t")
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {raw}").get(
        f"/api/v1/corpora/{corpus.slug}/export/", query
    )

    assert (page.status_code, fragment.status_code, download.status_code) == (400, 400, 400)
    for response in (page, fragment, download):
        assert message in response.content.decode()
        assert "curl" not in response.context or response.context.get("curl") is None
    assert page.context["errors"][field] == [
        str(text) for text in api.json()["error"]["fields"][field]
    ]
    assert "<html" in download.content.decode()  # the page again, not a broken file


# The download --------------------------------------------------------------------------------


def test_download_is_the_api_export_with_a_file_name(
    curator_client: Client, curator: AbstractUser, corpus: Corpus, labelled: Article
) -> None:
    query = {"format": "csv", "anonymize": "1"}
    _, raw = create_token(user=curator, name="t")
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = curator_client.get(download_url(corpus), query)
    api_response = api.get(f"/api/v1/corpora/{corpus.slug}/export/", query)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="korea-wide-') and disposition.endswith(
        '.csv"'
    )
    assert response["X-Accel-Buffering"] == "no"
    content = body_of(response)
    assert content == body_of(api_response)
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    assert len(rows) == 5  # every sentence of both articles
    names = {entry["annotator"] for row in rows for entry in json.loads(row["labels"])}
    assert len(names) == 2 and all(name.startswith("annotator-") for name in names)
    assert "other-annotator" not in content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"format": "csv"},
        {"shape": "long", "anonymize": "1"},
        {"format": "csv", "shape": "long", "layer": "stance"},
        {"layer": "claim_type", "only_gold": "1"},
        {"only_complete": "1", "format": "csv", "anonymize": "1"},
        {"since": "2000-01-01T00:00", "until": "2999-01-01T00:00", "shape": "long"},
    ],
    ids=["default", "csv", "long-anon", "csv-long-stance", "gold", "complete", "dates"],
)
def test_the_shown_command_and_api_call_write_the_same_bytes_as_the_download(
    curator_client: Client,
    curator: AbstractUser,
    corpus: Corpus,
    labelled: Article,
    tmp_path: Path,
    query: dict[str, str],
) -> None:
    """The promise of the page: its download, its curl line and its command are one export."""
    page = curator_client.get(page_url(corpus), query)
    downloaded = body_of(curator_client.get(download_url(corpus), query))

    # The command exactly as shown, with the output file put in the test's folder.
    words = shlex.split(page.context["command"])
    assert words[:3] == [".venv/bin/python", "manage.py", "export_dataset"]
    output = tmp_path / words[-1]
    call_command(*words[2:-1], str(output))
    # The API call exactly as shown, with a real token.
    _, raw = create_token(user=curator, name="t")
    api_url = shlex.split(page.context["curl"])[-1]
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {raw}").get(api_url)

    assert downloaded
    assert output.read_bytes() == downloaded
    assert body_of(api) == downloaded


def test_the_download_holds_the_chosen_records(
    curator_client: Client, corpus: Corpus, labelled: Article
) -> None:
    gold = curator_client.get(download_url(corpus), {"only_gold": "1", "layer": "claim_type"})
    long = curator_client.get(download_url(corpus), {"shape": "long"})

    (record,) = [json.loads(line) for line in body_of(gold).splitlines()]
    assert record["text"] == "Pyongyang fired a missile."
    assert record["claim_type"]["gold"] == "opinion" and "stance" not in record
    rows = [json.loads(line) for line in body_of(long).splitlines()]
    assert len(rows) == 7  # one per annotation
    assert (
        long["Content-Disposition"].endswith('.jsonl"')
        and "korea-long-" in (long["Content-Disposition"])
    )


# Who may -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["manager", "curator"])
def test_managers_and_curators_export(
    request: pytest.FixtureRequest, client: Client, corpus: Corpus, labelled: Article, who: str
) -> None:
    client.force_login(request.getfixturevalue(who))

    assert client.get(page_url(corpus)).status_code == 200
    assert client.get(page_url(corpus), headers=HX).status_code == 200
    assert body_of(client.get(download_url(corpus)))
    nav = client.get(corpus.get_absolute_url()).content.decode()
    assert f'href="{page_url(corpus)}"' in nav


@pytest.mark.parametrize("who", ["outsider", "annotator"])
def test_annotators_and_outsiders_get_404(
    request: pytest.FixtureRequest, client: Client, corpus: Corpus, labelled: Article, who: str
) -> None:
    client.force_login(request.getfixturevalue(who))

    answers = [
        client.get(page_url(corpus)).status_code,
        client.get(page_url(corpus), headers=HX).status_code,
        client.get(download_url(corpus)).status_code,
        client.post(page_url(corpus)).status_code,
    ]

    assert answers[:3] == [404, 404, 404]
    assert answers[3] in (404, 405)
    if who == "annotator":
        assert page_url(corpus) not in client.get(corpus.get_absolute_url()).content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client: Client, corpus: Corpus) -> None:
    for url in (page_url(corpus), download_url(corpus)):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_the_page_costs_the_same_queries_however_big_the_corpus(
    curator_client: Client,
    corpus: Corpus,
    labelled: Article,
    make_article: Callable[..., Article],
    django_assert_num_queries: Callable,
) -> None:
    # session, user, the corpus with the curator's role: the page reads no rows.
    with django_assert_num_queries(3):
        curator_client.get(page_url(corpus), {"format": "csv"})
    for number in range(5):
        make_article(corpus=corpus, text=f"More text {number}. Another sentence.")
    with django_assert_num_queries(3):
        curator_client.get(page_url(corpus), {"format": "csv"}, headers=HX)
