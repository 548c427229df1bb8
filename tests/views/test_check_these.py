""" "Check these" on the curation page: labels that look wrong to the trained model (confident
learning on out-of-fold probabilities), ranked, with the model's view beside the annotators';
re-settling without JavaScript; curators and managers only; and the model's label on curation
cards when the corpus shows curators suggestions."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from annotator.models import Annotation, GoldLabel, LabelChoice, Role, SuggestionMode
from tests.assist_data import flipped_gold_corpus, model_version, predict


def check_url(corpus, **query) -> str:
    url = reverse("annotator:curation-queue", kwargs={"slug": corpus.slug})
    return url + "?" + "&".join(f"{k}={v}" for k, v in {"status": "check", **query}.items())


def items_in_order(html: str) -> list[int]:
    ids = []
    for part in html.split('class="curation-item')[1:]:
        marker = 'data-sentence="'
        start = part.index(marker) + len(marker)
        ids.append(int(part[start : part.index('"', start)]))
    return ids


@pytest.fixture
def flipped(make_corpus, make_article, make_member):
    return flipped_gold_corpus(make_corpus, make_article, make_member)


def test_flipped_gold_comes_first_then_the_annotators_slip(client, flipped):
    client.force_login(flipped.curator)
    response = client.get(check_url(flipped.corpus))
    assert response.status_code == 200
    html = response.content.decode()
    # The slip's label is less plausible (0.02) than the flipped gold's (0.05), but a sentence
    # with a flagged gold label comes first.
    assert items_in_order(html) == [flipped.flipped.pk, flipped.slipped.pk]
    assert "Gold label “Not a claim” looks wrong: the model gives it 0.05, “Opinion” 0.85" in html
    assert f"{flipped.sloppy.username}&#x27;s “User comment” looks wrong" in html
    assert "not having seen this article" in html
    assert f"Model baseline {flipped.version.version}" in html
    # The annotators' labels stay beside the model's view.
    assert html.count('class="table ratings"') == 2


def test_nothing_to_check_without_a_trained_model(client, corpus, curator):
    client.force_login(curator)
    html = client.get(check_url(corpus)).content.decode()
    assert "Nothing to check" in html
    assert 'class="curation-item' not in html


def test_filter_by_annotator_keeps_their_flagged_labels(client, flipped):
    client.force_login(flipped.curator)
    html = client.get(check_url(flipped.corpus, annotator=flipped.sloppy.pk)).content.decode()
    assert items_in_order(html) == [flipped.slipped.pk]
    html = client.get(
        check_url(flipped.corpus, article=flipped.flipped.article_id)
    ).content.decode()
    assert items_in_order(html) == [flipped.flipped.pk]


def test_resettling_without_javascript_returns_to_check_these_and_clears_the_flag(client, flipped):
    corpus = flipped.corpus
    client.force_login(flipped.curator)
    opinion = LabelChoice.objects.get(corpus=corpus, value="opinion")
    back = check_url(corpus)
    response = client.post(
        reverse(
            "annotator:curation-settle", kwargs={"slug": corpus.slug, "pk": flipped.flipped.pk}
        ),
        {"layer": "claim_type", "choice": opinion.pk, "next": back},
    )
    assert response.status_code == 302 and response["Location"] == back
    assert GoldLabel.objects.get(sentence=flipped.flipped).choice == opinion
    html = client.get(back).content.decode()
    assert items_in_order(html) == [flipped.slipped.pk]


@pytest.mark.parametrize("role", [Role.ANNOTATOR, None])
def test_annotators_and_strangers_never_see_the_queue(
    client, flipped, make_member, make_user, role
):
    user = make_member(corpus=flipped.corpus, role=role) if role else make_user()
    client.force_login(user)
    assert client.get(check_url(flipped.corpus)).status_code == 404


def test_signed_out_goes_to_login(client, flipped):
    response = client.get(check_url(flipped.corpus))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("articles", [3, 9])
def test_query_count_does_not_grow_with_flags_and_the_list_is_reused(
    client, make_corpus, make_article, make_member, articles, django_assert_num_queries
):
    data = flipped_gold_corpus(make_corpus, make_article, make_member, articles=articles)
    client.force_login(data.curator)
    # 2 session and user; 1 corpus with role; the cache key: 1 current version, 1 gold and
    # 1 annotations stamp; label_issues: 1 version, 1 choices, 1 held-out probabilities,
    # 2 training labels, 1 gold, 1 annotations; 1 sentences of the page; 1 choices; items:
    # 1 notes, 1 annotations, 1 gold with staleness, 1 neighbours; model views: 1 version,
    # 1 annotators' names; filter bar: 1 targets, 1 annotators.
    with django_assert_num_queries(23):
        response = client.get(check_url(data.corpus))
    assert response.status_code == 200
    # Nothing changed since: the list comes from the cache, without label_issues' seven.
    with django_assert_num_queries(16):
        again = client.get(check_url(data.corpus))
    assert items_in_order(again.content.decode()) == items_in_order(response.content.decode())


@pytest.mark.parametrize(
    ("mode", "shown"),
    [
        (SuggestionMode.OFF, False),
        (SuggestionMode.CURATORS, True),
        (SuggestionMode.ANNOTATORS, True),
        (SuggestionMode.PRESELECT, True),
    ],
)
def test_curation_cards_show_the_newest_models_label_when_curators_see_suggestions(
    client, corpus, curator, annotator, other_annotator, make_article, make_annotation, mode, shown
):
    corpus.suggestions = mode
    corpus.save(update_fields=["suggestions"])
    sentence = make_article(corpus=corpus, text="Disputed sentence.").sentences.get()
    make_annotation(sentence=sentence, annotator=annotator, value="opinion")
    make_annotation(sentence=sentence, annotator=other_annotator, value="factual_claim")
    version = model_version(corpus, name="<i>claims</i>", version="9")
    predict(version, sentence, "opinion", 0.77)
    client.force_login(curator)
    html = client.get(reverse("annotator:curation-queue", kwargs={"slug": corpus.slug})).content
    html = html.decode()
    assert ("Model &lt;i&gt;claims&lt;/i&gt; 9" in html) is shown
    assert ('<strong class="model-choice">Opinion</strong> (0.77)' in html) is shown
    assert "<i>claims</i>" not in html


def test_a_changed_annotation_reaches_the_next_view(client, flipped):
    client.force_login(flipped.curator)
    assert flipped.slipped.pk in items_in_order(
        client.get(check_url(flipped.corpus)).content.decode()
    )
    factual = LabelChoice.objects.get(corpus=flipped.corpus, value="factual_claim")
    Annotation.objects.filter(sentence=flipped.slipped, annotator=flipped.sloppy).update(
        choice=factual, updated_at=timezone.now()
    )
    html = client.get(check_url(flipped.corpus)).content.decode()
    assert items_in_order(html) == [flipped.flipped.pk]
