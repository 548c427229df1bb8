"""Building a release from the database: files, facts, splits, immutability."""

from __future__ import annotations

import pytest

from annotator.models import ReleaseStatus

pytestmark = pytest.mark.django_db


def test_smoke(labelled_corpus, release_of) -> None:
    release = release_of(labelled_corpus)
    assert release.status == ReleaseStatus.READY, release.error
    print(release.files)
    print(release.counts)
