"""The correction pages: an article's sentences (split, merge, exclude) for managers and
curators, its zones and the corpus's zones (managers). Access, both outcomes of each form,
refusals naming the labels, and query counts that do not grow with the sentences."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.models import SegmentationChange, Sentence, Zone
from tests.factories import sentence_ids
from tests.views.conftest import TEXT

pytestmark = pytest.mark.django_db


def sentences_url(corpus, article) -> str:
    return reverse("annotator:article-sentences", kwargs={"slug": corpus.slug, "pk": article.pk})


def split_url(corpus, article, ordinal) -> str:
    """The split page of the article's sentence at `ordinal` (as it is now)."""
    (sentence,) = sentence_ids(article, ordinal)
    return reverse(
        "annotator:sentence-split",
        kwargs={"slug": corpus.slug, "pk": article.pk, "sentence": sentence or 999_999},
    )


def merge_url(corpus, article, ordinal) -> str:
    (sentence,) = sentence_ids(article, ordinal)
    return reverse(
        "annotator:sentence-merge",
        kwargs={"slug": corpus.slug, "pk": article.pk, "sentence": sentence or 999_999},
    )


def exclude_url(corpus, article) -> str:
    return reverse("annotator:sentences-exclude", kwargs={"slug": corpus.slug, "pk": article.pk})


def zones_url(corpus, article) -> str:
    return reverse("annotator:article-zones", kwargs={"slug": corpus.slug, "pk": article.pk})


def corpus_zones_url(corpus) -> str:
    return reverse("annotator:corpus-zones", kwargs={"slug": corpus.slug})


def texts(article) -> list[str]:
    return list(article.sentences.order_by("ordinal").values_list("text", flat=True))


# --- access -------------------------------------------------------------------------------


def test_sign_in_is_required(client, corpus, article):
    for url in (
        sentences_url(corpus, article),
        split_url(corpus, article, 0),
        merge_url(corpus, article, 0),
        zones_url(corpus, article),
        corpus_zones_url(corpus),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_sentence_pages_are_for_managers_and_curators(
    client, corpus, article, manager, curator, annotator, outsider
):
    pages = (
        sentences_url(corpus, article),
        split_url(corpus, article, 0),
        merge_url(corpus, article, 0),
    )
    for user in (manager, curator):
        client.force_login(user)
        for url in pages:
            assert client.get(url).status_code == 200
    for user in (annotator, outsider):
        client.force_login(user)
        for url in pages:
            assert client.get(url).status_code == 404
            assert client.get(url, HTTP_HX_REQUEST="true").status_code == 404
        assert client.post(split_url(corpus, article, 0), {"position": 4}).status_code == 404
        assert client.post(merge_url(corpus, article, 0)).status_code == 404
    assert not SegmentationChange.objects.exists()


def test_zone_pages_and_exclusion_are_for_managers(
    client, corpus, article, manager, curator, annotator, outsider
):
    client.force_login(manager)
    assert client.get(zones_url(corpus, article)).status_code == 200
    assert client.get(corpus_zones_url(corpus)).status_code == 200
    for user in (curator, annotator, outsider):
        client.force_login(user)
        assert client.get(zones_url(corpus, article)).status_code == 404
        assert client.get(corpus_zones_url(corpus)).status_code == 404
        assert client.post(corpus_zones_url(corpus), {"scope": "all"}).status_code == 404
        chosen = {"sentence": sentence_ids(article, 0)}
        assert client.post(exclude_url(corpus, article), chosen).status_code == 404
    assert not Sentence.objects.filter(zone_confirmed=True).exists()


def test_an_article_of_another_corpus_is_not_found(
    client, corpus, manager, make_corpus, make_article
):
    elsewhere = make_article(corpus=make_corpus(), text="Not yours. At all.")
    client.force_login(manager)
    assert client.get(sentences_url(corpus, elsewhere)).status_code == 404
    assert client.get(zones_url(corpus, elsewhere)).status_code == 404


def test_curators_see_no_exclude_form(client, corpus, article, curator):
    client.force_login(curator)
    html = client.get(sentences_url(corpus, article)).content.decode()
    assert 'id="exclude-form"' not in html and "Split<span" in html


# --- split and merge ----------------------------------------------------------------------


def test_split_page_offers_word_starts_and_splits(client, corpus, article, manager):
    client.force_login(manager)
    html = client.get(split_url(corpus, article, 1)).content.decode()
    assert "Critics called the figure misleading." in html
    assert 'name="position" value="8"' in html
    response = client.post(split_url(corpus, article, 1), {"position": 8})
    assert response.status_code == 302
    assert response["Location"].endswith(f"{sentences_url(corpus, article)}#s-1")
    assert texts(article)[1:3] == ["Critics", "called the figure misleading."]
    followed = client.get(sentences_url(corpus, article)).content.decode()
    assert "manager: split a sentence at sentence 2" in followed


def test_a_typed_character_position_wins_over_the_list(client, corpus, article, manager):
    client.force_login(manager)
    response = client.post(split_url(corpus, article, 1), {"position": 8, "position_at": "15"})
    assert response.status_code == 302
    assert texts(article)[1:3] == ["Critics called", "the figure misleading."]


@pytest.mark.parametrize("position", ["", "x", "0", "999"])
def test_split_at_a_bad_position_is_refused(client, corpus, article, manager, position):
    client.force_login(manager)
    response = client.post(split_url(corpus, article, 1), {"position": position})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert texts(article)[1] == "Critics called the figure misleading."


def test_split_of_a_labelled_sentence_names_the_labels_and_refuses(
    client, corpus, article, manager, annotator, make_annotation
):
    make_annotation(sentence=article.sentences.get(ordinal=1), annotator=annotator, value="opinion")
    client.force_login(manager)
    html = client.get(split_url(corpus, article, 1)).content.decode()
    assert "<td>annotator</td><td>claim_type</td><td>opinion</td>" in html
    assert 'id="split-form"' not in html
    response = client.post(split_url(corpus, article, 1), {"position": 8})
    assert response.status_code == 409
    assert texts(article)[1] == "Critics called the figure misleading."


def test_merge_page_shows_both_and_merges(client, corpus, article, curator):
    client.force_login(curator)
    html = client.get(merge_url(corpus, article, 0)).content.decode()
    assert "The ministry said" in html and "Critics called" in html
    assert client.post(merge_url(corpus, article, 0)).status_code == 302
    assert texts(article)[0] == (
        "The ministry said exports rose 4% in May. Critics called the figure misleading."
    )
    assert SegmentationChange.objects.get().user == curator


def test_merge_with_labels_is_refused_with_409(
    client, corpus, article, manager, annotator, make_annotation
):
    make_annotation(sentence=article.sentences.get(ordinal=0), annotator=annotator, value="opinion")
    client.force_login(manager)
    assert client.post(merge_url(corpus, article, 0)).status_code == 409
    assert len(texts(article)) == 4


def test_a_page_opened_before_another_correction_is_refused(client, corpus, article, manager):
    client.force_login(manager)
    (third,) = sentence_ids(article, 2)
    stale_merge = merge_url(corpus, article, 1)
    client.post(split_url(corpus, article, 1), {"position": 8})  # "Critics" | "called ..."
    response = client.post(stale_merge, {"next": third})
    assert response.status_code == 400
    assert "changed since the page was opened" in response.content.decode()
    response = client.post(split_url(corpus, article, 0), {"position": 4, "start": 0, "end": 3})
    assert response.status_code == 400
    assert len(texts(article)) == 5


def test_the_last_sentence_cannot_be_merged(client, corpus, article, manager):
    client.force_login(manager)
    assert "nothing after it" in client.get(merge_url(corpus, article, 3)).content.decode()
    assert client.post(merge_url(corpus, article, 3)).status_code == 400
    assert client.get(merge_url(corpus, article, 9)).status_code == 404


# --- exclusion ----------------------------------------------------------------------------


def test_exclude_a_run_then_include_one_again(client, corpus, article, manager):
    client.force_login(manager)
    response = client.post(
        exclude_url(corpus, article), {"first": 3, "last": 4, "action": "exclude"}
    )
    assert response.status_code == 302
    assert list(article.sentences.filter(excluded=True).values_list("ordinal", flat=True)) == [2, 3]
    client.post(
        exclude_url(corpus, article), {"sentence": sentence_ids(article, 3), "action": "include"}
    )
    assert list(article.sentences.filter(excluded=True).values_list("ordinal", flat=True)) == [2]
    html = client.get(sentences_url(corpus, article)).content.decode()
    assert html.count('class="excluded"') == 1


def test_exclude_with_nothing_chosen_says_so(client, corpus, article, manager):
    client.force_login(manager)
    response = client.post(exclude_url(corpus, article), {"action": "exclude"}, follow=True)
    assert "Choose at least one sentence" in response.content.decode()


def test_sentences_page_queries_do_not_grow_with_sentences(
    client, corpus, manager, make_article, django_assert_num_queries
):
    short = make_article(corpus=corpus, text="One. Two.")
    long = make_article(corpus=corpus, text=" ".join(f"Sentence {n}." for n in range(200)))
    client.force_login(manager)
    client.get(sentences_url(corpus, short))
    # session, user, corpus with role, article, sentences with label counts, history
    for article in (short, long):
        with django_assert_num_queries(6):
            assert client.get(sentences_url(corpus, article)).status_code == 200


# --- zones --------------------------------------------------------------------------------


def test_zones_page_corrects_and_confirms(client, corpus, article, manager):
    article.sentences.filter(ordinal=3).update(zone=Zone.COMMENTS, zone_rule="informal_tail")
    client.force_login(manager)
    html = client.get(zones_url(corpus, article)).content.decode()
    assert "4 of 4 sentences not confirmed yet" in html
    assert "tail of posts addressed to readers" in html
    ids = sentence_ids(article, 0, 1, 2, 3)
    data = {f"zone-{pk}": Zone.BODY for pk in ids}
    data[f"zone-{ids[3]}"] = Zone.COMMENTS
    data[f"zone-{ids[2]}"] = Zone.BOILERPLATE
    response = client.post(zones_url(corpus, article), data, follow=True)
    assert "2 article text, 1 page furniture (now excluded), 1 reader comments; 1 corrected" in (
        response.content.decode()
    )
    rows = list(
        article.sentences.order_by("ordinal").values_list("zone", "excluded", "zone_confirmed")
    )
    assert rows == [
        (Zone.BODY, False, True),
        (Zone.BODY, False, True),
        (Zone.BOILERPLATE, True, True),
        (Zone.COMMENTS, False, True),
    ]


def test_zones_page_refuses_an_unknown_zone(client, corpus, article, manager):
    client.force_login(manager)
    (first,) = sentence_ids(article, 0)
    response = client.post(zones_url(corpus, article), {f"zone-{first}": "sidebar"}, follow=True)
    assert "Unknown zone: sidebar" in response.content.decode()
    assert not article.sentences.filter(zone_confirmed=True).exists()


def test_zones_page_queries_do_not_grow_with_sentences(
    client, corpus, manager, make_article, django_assert_num_queries
):
    long = make_article(corpus=corpus, text=" ".join(f"Sentence {n}." for n in range(200)))
    client.force_login(manager)
    # session, user, corpus with role, article, sentences
    with django_assert_num_queries(5):
        assert client.get(zones_url(corpus, long)).status_code == 200


def test_corpus_zones_confirms_chosen_articles_or_all(client, corpus, manager, make_article):
    first = make_article(corpus=corpus, text=TEXT)
    second = make_article(corpus=corpus, text="Other text. Two sentences.")
    first.sentences.filter(ordinal=0).update(zone=Zone.BOILERPLATE, zone_rule="byline")
    client.force_login(manager)
    html = client.get(corpus_zones_url(corpus)).content.decode()
    assert "Confirm all 6 suggestions in this corpus" in html
    assert f'id="article-{first.pk}"' in html
    client.post(corpus_zones_url(corpus), {"article": [first.pk]})
    assert first.sentences.get(ordinal=0).excluded
    assert not second.sentences.filter(zone_confirmed=True).exists()
    response = client.post(corpus_zones_url(corpus), {"scope": "all"}, follow=True)
    assert "Confirmed the suggested zones of 2 sentence(s) in 1 article(s)" in (
        response.content.decode()
    )
    assert "Every sentence's zone is confirmed" in response.content.decode()


def test_corpus_zones_without_a_choice_says_so(client, corpus, manager, article):
    client.force_login(manager)
    response = client.post(corpus_zones_url(corpus), {}, follow=True)
    assert "Choose articles" in response.content.decode()


def test_corpus_zones_queries_do_not_grow_with_articles(
    client, corpus, manager, make_article, django_assert_num_queries
):
    for n in range(30):
        make_article(corpus=corpus, text=f"Article {n}. Has text.")
    client.force_login(manager)
    # session, user, corpus with role, zone tally, how many articles wait (for the pages),
    # one page of them
    with django_assert_num_queries(6):
        assert client.get(corpus_zones_url(corpus)).status_code == 200


def test_corpus_zones_pages_through_every_waiting_article(
    client, corpus, manager, make_article, monkeypatch
):
    from annotator.views import segmentation

    monkeypatch.setattr(segmentation, "ARTICLES_LISTED", 2)
    articles = [make_article(corpus=corpus, text=f"Article {n}. Has text.") for n in range(3)]
    client.force_login(manager)
    first = client.get(corpus_zones_url(corpus)).content.decode()
    assert "3 articles, page 1 of 2." in first
    assert [f'id="article-{a.pk}"' in first for a in articles] == [True, True, False]
    assert 'href="?page=2" rel="next"' in first
    second = client.get(corpus_zones_url(corpus) + "?page=2").content.decode()
    assert [f'id="article-{a.pk}"' in second for a in articles] == [False, False, True]
    assert 'href="?page=1">Previous' in second


def test_the_articles_table_and_corpus_bar_link_the_pages(
    client, corpus, article, manager, curator
):
    client.force_login(manager)
    html = client.get(
        reverse("annotator:corpus-articles", kwargs={"slug": corpus.slug})
    ).content.decode()
    assert sentences_url(corpus, article) in html
    assert zones_url(corpus, article) in html
    assert corpus_zones_url(corpus) in html
    client.force_login(curator)
    html = client.get(
        reverse("annotator:corpus-articles", kwargs={"slug": corpus.slug})
    ).content.decode()
    assert sentences_url(corpus, article) in html
    assert zones_url(corpus, article) not in html and corpus_zones_url(corpus) not in html


def test_the_article_page_links_reviewers_to_the_corrections(
    client, corpus, article, curator, annotator
):
    client.force_login(curator)
    assert sentences_url(corpus, article) in client.get(article.get_absolute_url()).content.decode()
    client.force_login(annotator)
    html = client.get(article.get_absolute_url()).content.decode()
    assert sentences_url(corpus, article) not in html


@pytest.mark.parametrize("junk", ["9" * 5000, "-1", "١٢", "1e3", " 3"])
def test_junk_numbers_are_refused_not_crashed_on(client, corpus, article, manager, junk):
    client.force_login(manager)
    assert client.post(split_url(corpus, article, 1), {"position": junk}).status_code == 400
    assert client.post(merge_url(corpus, article, 0), {"next": junk}).status_code == 302
    response = client.post(
        exclude_url(corpus, article), {"sentence": [junk], "first": junk, "last": junk}
    )
    assert response.status_code == 302
    # A field name of thousands of digits may be refused by Django itself (400): not a 500.
    response = client.post(zones_url(corpus, article), {f"zone-{junk}": "body"})
    assert response.status_code in (302, 400)
    assert client.post(corpus_zones_url(corpus), {"article": [junk]}).status_code == 302
    assert not article.sentences.filter(excluded=True).exists()


def test_the_articles_table_filter_confirms_the_zones_of_the_matching_articles(
    client, corpus, manager, make_article
):
    wanted = make_article(corpus=corpus, text="Wanted piece. Subscribe now!", title="Floods")
    other = make_article(corpus=corpus, text="Other piece. Subscribe today!", title="Drought")
    for article in (wanted, other):
        article.sentences.filter(ordinal=1).update(zone=Zone.BOILERPLATE)
    client.force_login(manager)
    table = client.get(
        reverse("annotator:corpus-articles", kwargs={"slug": corpus.slug}), {"q": "flood"}
    ).content.decode()
    assert f"{corpus_zones_url(corpus)}?scope=filter&amp;q=flood" in table
    page = client.get(corpus_zones_url(corpus), {"scope": "filter", "q": "flood"}).content.decode()
    assert "<strong>1</strong> article matching: title or id contains “flood”" in page
    client.post(corpus_zones_url(corpus), {"scope": "filter", "q": "flood"})
    assert list(wanted.sentences.values_list("excluded", flat=True).order_by("ordinal")) == [
        False,
        True,
    ]
    assert not other.sentences.filter(zone_confirmed=True).exists()


def test_invalid_filters_confirm_nothing(client, corpus, manager, article):
    client.force_login(manager)
    response = client.post(
        corpus_zones_url(corpus), {"scope": "filter", "labels_min": "many"}, follow=True
    )
    assert "The filters are not valid" in response.content.decode()
    assert not article.sentences.filter(zone_confirmed=True).exists()


def test_sentence_ids_of_another_article_are_ignored(
    client, corpus, article, manager, make_article
):
    other = make_article(corpus=corpus, text="Another article. With two sentences.")
    theirs = sentence_ids(other, 0)
    before = list(other.sentences.values_list("pk", "zone", "zone_confirmed", "excluded"))
    client.force_login(manager)
    client.post(exclude_url(corpus, article), {"sentence": theirs, "action": "exclude"})
    client.post(zones_url(corpus, article), {f"zone-{theirs[0]}": Zone.BOILERPLATE})
    assert list(other.sentences.values_list("pk", "zone", "zone_confirmed", "excluded")) == before
    assert not SegmentationChange.objects.filter(article=other).exists()
