"""Concurrency over real HTTP: many simultaneous requests against `live_server` on PostgreSQL.

The function-level versions (save_label and next_assignment from 30 threads) are in
tests/test_annotating.py and tests/test_assigning.py; these go through the whole stack
(sessions, CSRF, middleware, the view's transaction) the way browsers would. Each thread has its
own `requests.Session`; the live server answers each request in its own thread with its own
database connection.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
import requests
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse

from annotator.forms import label_value
from annotator.models import (
    Annotation,
    AnnotationHistory,
    Article,
    Assignment,
    AssignmentStatus,
    Corpus,
    LabelChoice,
    Layer,
    Membership,
    Role,
)
from annotator.tokens import create_token

THREADS = 30


def browser_session(user: AbstractUser, base_url: str) -> requests.Session:
    """A signed-in session with its CSRF cookie, as a browser holds after opening a page."""
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    # Any page rendering the CSRF token sets the cookie; the header then carries it.
    session.get(f"{base_url}/", timeout=30).raise_for_status()
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


def at_once(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run every call in its own thread, released together; exceptions are re-raised here."""
    barrier = threading.Barrier(len(calls))
    results: list[requests.Response | BaseException] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = calls[index]()
        except BaseException as error:  # noqa: BLE001 - re-raised in the test thread below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


@pytest.fixture
def assigned_article(
    corpus: Corpus, annotator: AbstractUser, make_article: Callable[..., Article]
) -> Article:
    article = make_article(corpus=corpus, text="Seoul protested. Pyongyang did not answer.")
    Assignment.objects.create(article=article, annotator=annotator)
    return article


def test_thirty_simultaneous_posts_of_one_label_store_one_row_and_one_change(
    live_server: object, corpus: Corpus, annotator: AbstractUser, assigned_article: Article
) -> None:
    sentence = assigned_article.sentences.order_by("ordinal").first()
    opinion = LabelChoice.objects.get(corpus=corpus, layer=Layer.CLAIM_TYPE, value="opinion")
    url = f"{live_server.url}{reverse('annotator:sentence-label', kwargs={'pk': sentence.pk})}"
    sessions = [browser_session(annotator, live_server.url) for _ in range(THREADS)]

    def post(session: requests.Session) -> Callable[[], requests.Response]:
        return lambda: session.post(
            url,
            data={"label": label_value(opinion), "seconds": "1"},
            headers={"HX-Request": "true"},
            timeout=60,
        )

    responses = at_once([post(session) for session in sessions])

    assert Counter(response.status_code for response in responses) == {200: THREADS}
    annotation = Annotation.objects.get(sentence=sentence)
    assert (annotation.annotator, annotation.choice) == (annotator, opinion)
    # Every request spent its second on the label, none was lost to the race.
    assert annotation.seconds_spent == THREADS
    history = list(AnnotationHistory.objects.filter(sentence=sentence))
    assert [(h.old_value, h.new_value) for h in history] == [("", "opinion")]


def test_concurrent_edits_end_on_a_submitted_value_with_every_change_in_the_history(
    live_server: object, corpus: Corpus, annotator: AbstractUser, assigned_article: Article
) -> None:
    sentence = assigned_article.sentences.order_by("ordinal").first()
    choices = list(LabelChoice.objects.filter(corpus=corpus, layer=Layer.CLAIM_TYPE))
    url = f"{live_server.url}{reverse('annotator:sentence-label', kwargs={'pk': sentence.pk})}"
    sessions = [browser_session(annotator, live_server.url) for _ in range(THREADS)]
    submitted = [choices[i % len(choices)] for i in range(THREADS)]

    def post(session: requests.Session, choice: LabelChoice) -> Callable[[], requests.Response]:
        return lambda: session.post(
            url, data={"label": label_value(choice)}, headers={"HX-Request": "true"}, timeout=60
        )

    responses = at_once(
        [post(session, choice) for session, choice in zip(sessions, submitted, strict=True)]
    )

    assert all(response.status_code == 200 for response in responses)
    final = Annotation.objects.get(sentence=sentence)
    assert final.choice in submitted
    history = list(AnnotationHistory.objects.filter(sentence=sentence).order_by("id"))
    # Times follow the order the changes were made in (undo relies on it).
    by_time = AnnotationHistory.objects.filter(sentence=sentence).order_by("changed_at", "id")
    assert [h.pk for h in by_time] == [h.pk for h in history]
    # The history is one unbroken chain from "no label" to the final value: each change starts
    # where the previous one ended, so no change was lost or recorded twice.
    assert history[0].old_value == ""
    for before, after in zip(history, history[1:], strict=False):
        assert after.old_value == before.new_value
    assert history[-1].new_value == final.choice.value
    assert 1 <= len(history) <= THREADS
    assert {h.new_value for h in history} <= {c.value for c in submitted}


def test_thirty_annotators_asking_for_work_at_once_never_overfill_an_article(
    live_server: object,
    make_corpus: Callable[..., Corpus],
    make_member: Callable[..., AbstractUser],
    make_article: Callable[..., Article],
) -> None:
    corpus = make_corpus(annotators_per_article=2)
    articles = [
        make_article(corpus=corpus, text=f"Article number {n} says something.") for n in range(12)
    ]
    annotators = [make_member(corpus=corpus, role=Role.ANNOTATOR) for _ in range(THREADS)]
    sessions = [browser_session(user, live_server.url) for user in annotators]
    url = f"{live_server.url}{reverse('annotator:corpus-next', kwargs={'slug': corpus.slug})}"

    def ask(session: requests.Session) -> Callable[[], requests.Response]:
        return lambda: session.post(url, allow_redirects=False, timeout=60)

    first = at_once([ask(session) for session in sessions])

    assert all(response.status_code == 302 for response in first)
    per_article = Counter(Assignment.objects.values_list("article_id", flat=True))
    assert max(per_article.values()) <= corpus.annotators_per_article
    # 12 articles x 2 places: every place is taken, the other six annotators are told so.
    assert sum(per_article.values()) == len(articles) * corpus.annotators_per_article
    per_annotator = Counter(Assignment.objects.values_list("annotator_id", flat=True))
    assert max(per_annotator.values()) == 1
    sent_to = {
        user.pk: response.headers["Location"]
        for user, response in zip(annotators, first, strict=True)
    }
    for assignment in Assignment.objects.all():
        assert sent_to[assignment.annotator_id] == assignment.article.get_absolute_url()

    # Everyone asks again at once: those with an article continue it, nobody gets a second one.
    second = at_once([ask(session) for session in sessions])

    assert [r.headers["Location"] for r in second] == [sent_to[u.pk] for u in annotators]
    assert Assignment.objects.count() == sum(per_article.values())
    assert not Assignment.objects.exclude(status=AssignmentStatus.ASSIGNED).exists()


@pytest.mark.usefixtures("meet_after_reading")
@pytest.mark.parametrize("entry", ["members page", "API"])
def test_two_managers_removing_each_other_at_once_leave_one_manager(
    live_server: object,
    make_corpus: Callable[..., Corpus],
    make_member: Callable[..., AbstractUser],
    entry: str,
) -> None:
    """Each removal alone is allowed (another manager remains); together, one is refused."""
    corpus = make_corpus()
    managers = [make_member(corpus=corpus, role=Role.MANAGER) for _ in range(2)]
    memberships = [Membership.objects.get(corpus=corpus, user=user) for user in managers]

    def remove(by: AbstractUser, membership: Membership) -> Callable[[], requests.Response]:
        if entry == "API":
            _, raw = create_token(user=by, name="script")
            url = f"{live_server.url}/api/v1/memberships/{membership.pk}/"
            headers = {"Authorization": f"Bearer {raw}"}
            return lambda: requests.delete(url, headers=headers, timeout=60)
        session = browser_session(by, live_server.url)
        path = reverse(
            "annotator:corpus-member-remove", kwargs={"slug": corpus.slug, "pk": membership.pk}
        )
        return lambda: session.post(f"{live_server.url}{path}", allow_redirects=False, timeout=60)

    responses = at_once([remove(managers[0], memberships[1]), remove(managers[1], memberships[0])])

    assert Membership.objects.filter(corpus=corpus, role=Role.MANAGER).count() == 1
    if entry == "API":
        assert sorted(response.status_code for response in responses) == [204, 400]
