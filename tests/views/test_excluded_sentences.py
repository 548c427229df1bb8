"""What annotators see of excluded sentences and reader comments on the article page: excluded
rows greyed, without forms, refused when posted to anyway, left out of progress and "done";
comment rows with a badge."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.forms import label_value
from annotator.models import Annotation, AssignmentStatus, SentenceNote, Zone
from annotator.resegmenting import set_excluded
from tests.factories import sentence_ids
from tests.views.conftest import choice

pytestmark = pytest.mark.django_db


@pytest.fixture
def excluded(article, manager, assigned):
    """The article's third sentence excluded by the manager, after it was assigned."""
    set_excluded(
        article_id=article.pk, sentence_ids=sentence_ids(article, 2), excluded=True, by=manager
    )
    return article.sentences.get(ordinal=2)


def page(client, article) -> str:
    return client.get(article.get_absolute_url()).content.decode()


def label_url(sentence) -> str:
    return reverse("annotator:sentence-label", kwargs={"pk": sentence.pk})


def test_excluded_row_is_greyed_context_without_forms(client, annotator, excluded, sentences):
    client.force_login(annotator)
    html = page(client, excluded.article)
    start = html.index(f'id="s-{excluded.pk}"')
    row = html[html.rindex("<div", 0, start) : html.index("</div>\n</div>", start)]
    assert 'class="context-row excluded' in row
    assert "Not article text" in row
    assert "<form" not in row and "sentence-row" not in row
    assert html.count('class="sentence-row') == 3
    assert "0 / 3 sentences" in html


def test_labelling_an_excluded_sentence_is_refused(client, corpus, annotator, excluded):
    client.force_login(annotator)
    opinion = label_value(choice(corpus, "opinion"))
    response = client.post(label_url(excluded), {"label": opinion}, HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert "excluded from labelling" in response.content.decode()
    response = client.post(label_url(excluded), {"label": opinion})
    assert response.status_code == 302
    note = reverse("annotator:sentence-note", kwargs={"pk": excluded.pk})
    client.post(note, {"note": "furniture?", "unsure": "on"}, HTTP_HX_REQUEST="true")
    assert not Annotation.objects.exists() and not SentenceNote.objects.exists()


def test_the_article_is_done_without_its_excluded_sentence(
    client, corpus, annotator, assigned, excluded, sentences
):
    client.force_login(annotator)
    for sentence in sentences:
        if sentence.pk != excluded.pk:
            client.post(label_url(sentence), {"label": label_value(choice(corpus, "opinion"))})
    client.post(reverse("annotator:article-finish", kwargs={"pk": assigned.article_id}))
    assigned.refresh_from_db()
    assert assigned.status == AssignmentStatus.DONE


def test_reader_comments_carry_a_badge_and_can_be_labelled(
    client, corpus, annotator, assigned, sentences
):
    comment = sentences[3]
    comment.article.sentences.filter(pk=comment.pk).update(zone=Zone.COMMENTS)
    client.force_login(annotator)
    html = page(client, comment.article)
    assert html.count("reader comment</span>") == 1
    response = client.post(
        label_url(comment),
        {"label": label_value(choice(corpus, "user_comment"))},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "reader comment</span>" in response.content.decode()
