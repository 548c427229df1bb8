"""Many people asking for work at the same moment, for the assignment tests."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from django.contrib.auth.models import AbstractUser
from django.db import connection

from annotator.assigning import next_assignment
from annotator.models import Assignment, AssignmentStatus, Corpus


def next_article_at_once(
    corpus: Corpus, annotators: Sequence[AbstractUser], *, each: int = 3
) -> set[tuple[int, int]]:
    """Every annotator presses *Next article* `each` times, all requests released together;
    each article handed out is finished at once, so the annotator's next request takes a new
    one. Returns the (article, annotator) pairs handed out; raises what any request raised."""
    requests = list(annotators) * each
    barrier = threading.Barrier(len(requests))
    errors: list[BaseException] = []
    given: set[tuple[int, int]] = set()

    def request(user: AbstractUser) -> None:
        try:
            barrier.wait()
            assignment = next_assignment(corpus=corpus, annotator=user)
            if assignment:
                given.add((assignment.article_id, user.pk))
                Assignment.objects.filter(pk=assignment.pk).update(status=AssignmentStatus.DONE)
        except BaseException as error:  # noqa: BLE001 - raised below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=(user,)) for user in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return given
