"""Release fixtures: a scratch release storage, and a corpus with labels worth releasing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import AbstractUser

from annotator.annotating import save_label
from annotator.models import (
    Article,
    Assignment,
    AssignmentStatus,
    Corpus,
    GoldLabel,
    GoldMethod,
    LabelChoice,
    Layer,
    Role,
    Sentence,
    StanceTarget,
)
from annotator.releases.building import build_release
from annotator.releases.catalog import ReleaseOptions, cut_release


@pytest.fixture(autouse=True)
def own_release_storage(release_storage: Path) -> Path:
    """Every test here gets its own release storage folder (tests/conftest.py)."""
    return release_storage


@pytest.fixture
def label(db: None) -> Callable[..., None]:
    def make(
        *,
        sentence: Sentence,
        annotator: AbstractUser,
        value: str,
        target: StanceTarget | None = None,
    ) -> None:
        layer = Layer.STANCE if target is not None else Layer.CLAIM_TYPE
        sentence = Sentence.objects.select_related("article__corpus").get(pk=sentence.pk)
        # Labelling needs the article held, as "Next article" would give it.
        Assignment.objects.get_or_create(
            article=sentence.article,
            annotator=annotator,
            defaults={"status": AssignmentStatus.ASSIGNED},
        )
        choice = LabelChoice.objects.get(corpus=sentence.article.corpus, layer=layer, value=value)
        save_label(
            sentence=sentence, annotator=annotator, layer=layer, target=target, choice=choice
        )

    return make


@pytest.fixture
def gold(db: None) -> Callable[..., GoldLabel]:
    def make(
        *, sentence: Sentence, value: str, by: AbstractUser, target: StanceTarget | None = None
    ) -> GoldLabel:
        layer = Layer.STANCE if target is not None else Layer.CLAIM_TYPE
        corpus_id = Article.objects.values_list("corpus_id", flat=True).get(pk=sentence.article_id)
        choice = LabelChoice.objects.get(corpus_id=corpus_id, layer=layer, value=value)
        gold, _ = GoldLabel.objects.update_or_create(
            sentence=sentence,
            layer=layer,
            target=target,
            defaults={"choice": choice, "method": GoldMethod.ADJUDICATED, "decided_by": by},
        )
        return gold

    return make


TEXT = "Talks resumed on Monday. Both sides called them useful.\n\nA reader wrote in."


@pytest.fixture
def labelled_corpus(
    corpus: Corpus,
    manager: AbstractUser,
    annotator: AbstractUser,
    other_annotator: AbstractUser,
    make_article: Callable[..., Article],
    label: Callable[..., None],
    gold: Callable[..., GoldLabel],
) -> Corpus:
    """Twelve articles of three sentences, labelled so every label source occurs:

    sentence 0: both annotators agree (majority), sentence 1: they disagree (no label) unless a
    curator settled it (gold on the first article), sentence 2: one annotator only (single).
    Stance: one label on sentence 0 (single). The last two articles have one annotator only.
    """
    target = corpus.stance_targets.get()
    for number in range(12):
        article = make_article(
            corpus=corpus,
            text=TEXT.replace("Monday", f"day {number}"),
            external_id=f"article-{number:02d}.txt",
            title=f"Talks {number}",
        )
        first, second, third = article.sentences.order_by("ordinal")
        value = ("factual_claim", "opinion", "user_comment")[number % 3]
        label(sentence=first, annotator=annotator, value=value)
        label(sentence=third, annotator=annotator, value="not_a_claim")
        label(sentence=first, annotator=annotator, value="favor", target=target)
        if number < 10:
            label(sentence=first, annotator=other_annotator, value=value)
            label(sentence=second, annotator=annotator, value="opinion")
            label(sentence=second, annotator=other_annotator, value="factual_claim")
        if number == 0:
            gold(sentence=second, value="opinion", by=manager)
    return corpus


@pytest.fixture
def release_of(db: None) -> Callable[..., object]:
    """Cut and build a release at once (the task would do the build in the background)."""

    def make(corpus: Corpus, **options: object):  # noqa: ANN202
        release = cut_release(corpus=corpus, options=ReleaseOptions(**options), enqueue=False)
        return build_release(release.pk, replicates=50)

    return make


@pytest.fixture
def manager_role() -> str:
    return Role.MANAGER


@pytest.fixture
def split_corpus(
    make_corpus: Callable[..., Corpus],
    make_member: Callable[..., AbstractUser],
    make_article: Callable[..., Article],
) -> Corpus:
    """Thirty articles whose first two sentences both annotators label alike (opinion, then
    not a claim): one stratum, enough articles for all three splits (24 / 3 / 3)."""
    from annotator.models import Annotation, Membership

    corpus = make_corpus(slug="splits", name="Splits")
    manager = make_member(corpus=corpus, role=Role.MANAGER, username="split-manager")
    people = [make_member(corpus=corpus, username=f"split-annotator-{n}") for n in range(2)]
    choices = {c.value: c for c in LabelChoice.objects.filter(corpus=corpus)}
    rows = []
    for number in range(30):
        article = make_article(
            corpus=corpus, text=TEXT.replace("Monday", f"day {number}"), external_id=f"s{number}"
        )
        first, second, _ = article.sentences.order_by("ordinal")
        for person in people:
            rows.append(
                Annotation(
                    sentence=first,
                    annotator=person,
                    layer=Layer.CLAIM_TYPE,
                    choice=choices["opinion"],
                )
            )
            rows.append(
                Annotation(
                    sentence=second,
                    annotator=person,
                    layer=Layer.CLAIM_TYPE,
                    choice=choices["not_a_claim"],
                )
            )
    Annotation.objects.bulk_create(rows)
    assert Membership.objects.filter(corpus=corpus, user=manager).exists()
    return corpus
