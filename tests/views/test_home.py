"""Home: the user's corpora with their progress."""

from __future__ import annotations

from django.urls import reverse

from annotator.models import Assignment, AssignmentStatus


def test_home_lists_my_corpora_with_progress(
    client, corpus, make_corpus, annotator, other_annotator, make_article, django_assert_num_queries
):
    make_corpus(name="Not mine")
    articles = [make_article(corpus=corpus, text=f"Article {n}.") for n in range(3)]
    Assignment.objects.create(
        article=articles[0], annotator=annotator, status=AssignmentStatus.DONE
    )
    Assignment.objects.create(
        article=articles[0], annotator=other_annotator, status=AssignmentStatus.DONE
    )
    client.force_login(annotator)
    # session, user, corpora with all their progress figures
    with django_assert_num_queries(3):
        response = client.get(reverse("annotator:home"))
    html = response.content.decode()
    assert "Korea coverage" in html
    assert "Not mine" not in html
    # 3 articles x 2 annotators = 6 needed, 2 done; my share is 6 / 2 annotators = 3.
    assert "2 / 6 needed" in html
    assert "1 / 3 of your share" in html


def test_home_empty_state_and_login_required(client, outsider):
    assert client.get(reverse("annotator:home")).status_code == 302
    client.force_login(outsider)
    assert "not a member of any corpus" in client.get(reverse("annotator:home")).content.decode()


def test_pages_name_an_icon_that_exists(client, annotator):
    # Without one, every new browser session asks for /favicon.ico and logs a 404.
    import re

    from django.conf import settings
    from django.contrib.staticfiles import finders

    client.force_login(annotator)
    html = client.get(reverse("annotator:home")).content.decode()
    href = re.search(r'<link rel="icon" href="([^"]+)"', html)
    assert href is not None
    assert finders.find(href.group(1).removeprefix(settings.STATIC_URL))
