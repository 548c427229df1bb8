"""The corpus page: own progress and articles; members' progress for managers."""

from __future__ import annotations

from django.urls import reverse

from annotator.models import Assignment, AssignmentStatus


def url(corpus) -> str:
    return reverse("annotator:corpus-detail", kwargs={"slug": corpus.slug})


def test_annotator_sees_own_articles_not_members(
    client, corpus, annotator, other_annotator, make_article
):
    mine, theirs = (
        make_article(corpus=corpus, title="Mine"),
        make_article(corpus=corpus, text="Other.", title="Theirs"),
    )
    Assignment.objects.create(article=mine, annotator=annotator)
    Assignment.objects.create(article=theirs, annotator=other_annotator)
    client.force_login(annotator)
    html = client.get(url(corpus)).content.decode()
    assert "Mine" in html
    assert "Theirs" not in html
    assert 'id="members"' not in html


def test_manager_sees_members_progress(
    client, corpus, manager, annotator, other_annotator, make_article, django_assert_num_queries
):
    for n, status in enumerate(
        (AssignmentStatus.DONE, AssignmentStatus.DONE, AssignmentStatus.SKIPPED)
    ):
        Assignment.objects.create(
            article=make_article(corpus=corpus, text=f"Text {n}."),
            annotator=annotator,
            status=status,
        )
    Assignment.objects.create(
        article=make_article(corpus=corpus, text="Open."), annotator=other_annotator
    )
    client.force_login(manager)
    # session, user, corpus with progress, my assignments, members with their counts
    with django_assert_num_queries(5):
        html = client.get(url(corpus)).content.decode()
    assert 'id="members"' in html
    row = html[html.index("<td>annotator</td>") :].split("</tr>")[0]
    cells = [cell.split("<")[0] for cell in row.split('class="num">')[1:]]
    assert cells == ["0", "2", "1"]  # in progress, done, skipped
    assert reverse("annotator:corpus-assign", kwargs={"slug": corpus.slug}) in html


def test_outsider_gets_404(client, corpus, outsider):
    client.force_login(outsider)
    assert client.get(url(corpus)).status_code == 404


def test_statistics_and_curation_links_only_for_managers_and_curators(
    client, corpus, manager, curator, annotator
):
    statistics = reverse("annotator:corpus-statistics", kwargs={"slug": corpus.slug})
    curation = reverse("annotator:curation-queue", kwargs={"slug": corpus.slug})
    for user, shown in ((manager, True), (curator, True), (annotator, False)):
        client.force_login(user)
        html = client.get(url(corpus)).content.decode()
        assert (statistics in html, curation in html) == (shown, shown)
