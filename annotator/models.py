"""Tables, their invariants (as named database constraints), QuerySets and one-row behaviour.

Writes that span several models live in the module named for the job (importing.py, ...);
this module only knows how one row behaves and how to ask for many.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import (
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from annotator.guidelines import MAX_GUIDELINES_CHARS
from annotator.numbers import whole_number

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.models import AnonymousUser, User
    from django.db.models.expressions import Combinable


class Layer(models.TextChoices):
    CLAIM_TYPE = "claim_type", "Claim type"
    STANCE = "stance", "Stance"


class Role(models.TextChoices):
    MANAGER = "manager", "Manager"
    CURATOR = "curator", "Curator"
    ANNOTATOR = "annotator", "Annotator"

    # The role sets that access checks name, each defined once (below the class: inside it they
    # would become members of the enumeration).
    MANAGERS: ClassVar[tuple[Role, ...]]
    # Managers and curators see every annotator's labels, the gold labels and the statistics;
    # annotators see only their own labels (blind annotation).
    REVIEWERS: ClassVar[tuple[Role, ...]]
    ANNOTATORS: ClassVar[tuple[Role, ...]]


Role.MANAGERS = (Role.MANAGER,)
Role.REVIEWERS = (Role.MANAGER, Role.CURATOR)
Role.ANNOTATORS = (Role.ANNOTATOR,)


# (value, display name, key, numeric code) in display order; numeric codes feed interval alpha.
DEFAULT_CLAIM_TYPE_CHOICES = (
    ("factual_claim", "Factual claim", "1", None),
    ("opinion", "Opinion", "2", None),
    ("user_comment", "User comment", "3", None),
    ("not_a_claim", "Not a claim", "0", None),
)
DEFAULT_STANCE_CHOICES = (
    ("favor", "Favor", "f", 1.0),
    ("against", "Against", "a", -1.0),
    ("neutral", "Neutral", "n", 0.0),
)


# Keys the article and curation pages keep for their own actions (workspace.js, curation.js),
# with what each does there; a label choice may not take one (see validate_choice_key).
RESERVED_KEYS = {
    "j": "moves through sentences",
    "k": "moves through sentences",
    "u": "undoes the last change",
    "!": "flags a sentence as unsure",
    "/": "opens the note field",
    ">": "skips the article",
    "?": "opens the keyboard help",
    " ": "scrolls the page",
}


def validate_choice_key(key: str) -> None:
    """A label choice's key must be one visible character the pages do not use themselves.

    A field validator, so every entry point that validates the model (the settings pages, the
    admin, full_clean in scripts) refuses the same keys with the same words.
    """
    if key in RESERVED_KEYS:
        shown = "space" if key == " " else key
        raise ValidationError(
            f"The key “{shown}” {RESERVED_KEYS[key]} on the article and curation pages; "
            "pick another.",
            code="reserved_key",
        )
    if key.isspace() or not key.isprintable():
        raise ValidationError(
            "A key must be one visible character (a letter, digit or sign).", code="invisible_key"
        )


def target_slug(name: str, *, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A stance target's stable slug from its name, unique among `taken` (-2, -3, ...).

    Punctuation becomes a separator first, so "China–North Korea" gives "china-north-korea";
    a name with no Latin letters or digits gives "target".
    """
    base = slugify(re.sub(r"[^\w\s-]", " ", name))[:90].strip("-") or "target"
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def content_hash(text: str) -> str:
    """Identity of an article's text: the same text is never stored twice in a corpus."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def max_length_of(model: type[models.Model], field_name: str) -> int:
    """A field's max_length, for the checks and messages that repeat it outside a form."""
    field = model._meta.get_field(field_name)
    if not isinstance(field, models.Field) or field.max_length is None:
        raise TypeError(f"{model.__name__}.{field_name} has no max_length.")
    return field.max_length


def count_of(queryset: QuerySet) -> Subquery:
    """COUNT(*) of a queryset correlated with the outer row (through `OuterRef`), to annotate.

    A scalar subquery rather than a join: joins would multiply the outer rows and each other's
    counts, and an aggregate without GROUP BY answers 0, never NULL, when nothing matches.
    """
    counted = queryset.order_by().values(
        n=Func(F("pk"), function="COUNT", output_field=IntegerField())
    )
    return Subquery(counted, output_field=IntegerField())


@dataclass(frozen=True)
class Progress:
    """How much of something is done, for a progress bar."""

    done: int
    total: int

    @property
    def percent(self) -> int:
        return min(round(100 * self.done / self.total), 100) if self.total else 0


class SchemaQuerySet(models.QuerySet[Any]):
    """Label choices and stance targets: bulk_create bumps the corpora's schema_version as a
    single save does (the workspace caches a corpus's schema by that version, so a write that
    does not bump it leaves annotators with a stale schema).

    QuerySet.update/delete/bulk_update skip the models' save and delete too: the code that
    calls them bumps the version itself (corpora.move_in_order, the admin's bulk delete).
    """

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        # Any: one QuerySet class for two models (LabelChoice, StanceTarget), both with corpus_id.
        created = super().bulk_create(objs, *args, **kwargs)
        corpus_ids = {obj.corpus_id for obj in created}
        if corpus_ids:
            Corpus.objects.filter(pk__in=corpus_ids).update(schema_version=F("schema_version") + 1)
        return created


class SuggestionMode(models.TextChoices):
    """Who sees a model's suggested labels while annotating (see assisting.py)."""

    OFF = "off", "Off"
    CURATORS = "curators", "Curators only (curation page)"
    ANNOTATORS = "annotators", "Annotators and curators"
    PRESELECT = "preselect", "Annotators, with the suggestion preselected"


class AssignmentOrder(models.TextChoices):
    """Which article the assigner hands out next."""

    FAIR = "fair", "Fair: the least annotated articles first, in import order"
    UNCERTAINTY = "uncertainty", "Uncertainty: the articles the model is least sure about first"


class CorpusQuerySet(models.QuerySet["Corpus"]):
    def for_user(self, user: User | AnonymousUser) -> CorpusQuerySet:
        """The user's corpora, each with the user's `role` in it (from the same join)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user).annotate(role=F("memberships__role"))

    def with_role(self, user: User | AnonymousUser, roles: tuple[str, ...]) -> CorpusQuerySet:
        """The corpora where the user has one of `roles` (e.g. `Role.REVIEWERS`), with `role`."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user, memberships__role__in=roles).annotate(
            role=F("memberships__role")
        )

    def with_counts(self) -> CorpusQuerySet:
        """Annotate `article_count` and `done_count` (finished assignments), which
        `Corpus.corpus_progress` reads."""
        return self.annotate(
            article_count=count_of(Article.objects.filter(corpus=OuterRef("pk"))),
            done_count=count_of(
                Assignment.objects.filter(
                    article__corpus=OuterRef("pk"), status=AssignmentStatus.DONE
                )
            ),
        )

    def with_progress(self, user: User | AnonymousUser) -> CorpusQuerySet:
        """The user's corpora with what `corpus_progress` and `my_progress` read, and `my_open`
        (the user's articles in progress), in one query however many corpora."""
        mine = Assignment.objects.filter(article__corpus=OuterRef("pk"), annotator=user.pk)
        return (
            self.for_user(user)
            .with_counts()
            # The plugin takes these names, declared on Corpus for `my_progress`, for a clash.
            .annotate(  # type: ignore[no-redef]
                annotator_count=count_of(
                    Membership.objects.filter(corpus=OuterRef("pk")).annotators()
                ),
                my_done=count_of(mine.filter(status=AssignmentStatus.DONE)),
                my_open=count_of(mine.filter(status=AssignmentStatus.ASSIGNED)),
            )
        )


class Corpus(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    guidelines = models.TextField(
        blank=True,
        help_text="Annotation guidelines in Markdown.",
        validators=[
            MaxLengthValidator(
                MAX_GUIDELINES_CHARS,
                "Guidelines can be at most %(limit_value)s characters long; "
                "these have %(show_value)s.",
            )
        ],
    )
    annotators_per_article = models.PositiveSmallIntegerField(default=2)
    stance_required = models.BooleanField(
        default=False,
        help_text="Whether an article counts as done only when every sentence has a stance.",
    )
    # Model assistance (assisting.py).
    suggestions = models.CharField(
        max_length=20,
        choices=SuggestionMode.choices,
        default=SuggestionMode.OFF,
        help_text="Who sees the model's suggested label while annotating.",
    )
    suggestion_control_share = models.FloatField(
        default=0.2,
        help_text="Share of sentences (0 to 1) whose suggestion is computed but hidden, as a "
        "control for how much visible suggestions sway annotators.",
    )
    retrain_every = models.PositiveIntegerField(
        default=0,
        help_text="Train a new baseline model after this many new labels (0: only when asked).",
    )
    assignment_order = models.CharField(
        max_length=20, choices=AssignmentOrder.choices, default=AssignmentOrder.FAIR
    )
    # Bumped whenever choices or stance targets change (model save/delete, SchemaQuerySet's
    # bulk_create, and by hand after bulk update/delete), so exports say which schema they used
    # and the workspace's cached schema is replaced. A data migration that edits them must bump
    # it too (historical models have no custom save).
    schema_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    objects = CorpusQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "corpora"
        constraints = [
            models.CheckConstraint(
                condition=Q(annotators_per_article__gte=1),
                name="corpus_needs_at_least_one_annotator",
            ),
            models.CheckConstraint(
                condition=Q(suggestions__in=SuggestionMode.values), name="corpus_suggestions_valid"
            ),
            models.CheckConstraint(
                condition=Q(suggestion_control_share__gte=0, suggestion_control_share__lte=1),
                name="corpus_suggestion_control_share",
            ),
            models.CheckConstraint(
                condition=Q(assignment_order__in=AssignmentOrder.values),
                name="corpus_assignment_order_valid",
            ),
            # Guidelines render on every article page; the renderer also cuts longer text.
            models.CheckConstraint(
                condition=models.lookups.LessThanOrEqual(
                    Length("guidelines"), MAX_GUIDELINES_CHARS
                ),
                name="corpus_guidelines_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("annotator:corpus-detail", kwargs={"slug": self.slug})

    def ensure_default_schema(self) -> None:
        """Give a new corpus the standard claim-type and stance choices (idempotent)."""
        for layer, defaults in (
            (Layer.CLAIM_TYPE, DEFAULT_CLAIM_TYPE_CHOICES),
            (Layer.STANCE, DEFAULT_STANCE_CHOICES),
        ):
            if self.choices.filter(layer=layer).exists():
                continue
            LabelChoice.objects.bulk_create(
                LabelChoice(
                    corpus=self,
                    layer=layer,
                    value=value,
                    name=name,
                    key=key,
                    order=order,
                    numeric_code=code,
                )
                for order, (value, name, key, code) in enumerate(defaults)
            )

    def bump_schema_version(self) -> None:
        Corpus.objects.filter(pk=self.pk).update(schema_version=F("schema_version") + 1)

    # Only on rows from the CorpusQuerySet methods that annotate them: `role` (for_user,
    # with_role), `article_count` and `done_count` (with_counts), `annotator_count`, `my_done`
    # and `my_open` (with_progress). Declared for the type checker; a plain row has none.
    role: str
    article_count: int
    done_count: int
    annotator_count: int
    my_done: int
    my_open: int

    @property
    def corpus_progress(self) -> Progress:
        """Finished assignments out of articles × annotators per article
        (needs `Corpus.objects.with_counts()`)."""
        needed = self.article_count * self.annotators_per_article
        return Progress(self.done_count, needed)

    @property
    def my_progress(self) -> Progress:
        """The user's finished articles out of a fair share: the needed annotations spread
        evenly over the corpus's annotators (needs `Corpus.objects.with_progress(user)`)."""
        needed = self.article_count * self.annotators_per_article
        share = (
            math.ceil(needed / self.annotator_count) if self.annotator_count else self.article_count
        )
        return Progress(self.my_done, min(share, self.article_count))

    def role_of(self, user: User | AnonymousUser) -> str | None:
        if not user.is_authenticated:
            return None
        return self.memberships.filter(user=user).values_list("role", flat=True).first()


class StanceTarget(models.Model):
    """A proposition or entity whose stance annotators judge, e.g. "China–North Korea alliance"."""

    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="stance_targets")
    name = models.CharField(max_length=200)
    # Dataset releases key stance columns by this, so it is set once from the first name and
    # never follows a rename (not editable in any form).
    slug = models.SlugField(max_length=100, editable=False)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    objects = SchemaQuerySet.as_manager()

    class Meta:
        ordering = ["corpus", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["corpus", "name"], name="stance_target_unique_name"),
            models.UniqueConstraint(fields=["corpus", "slug"], name="stance_target_unique_slug"),
            models.CheckConstraint(condition=~Q(slug=""), name="stance_target_slug_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The slug is set once, from the first name: renaming a target keeps its slug, so the
        # columns of exports and releases keyed by it stay the same.
        if not self.slug:
            taken = set(
                StanceTarget.objects.filter(corpus_id=self.corpus_id).values_list("slug", flat=True)
            )
            self.slug = target_slug(self.name, taken=taken)
        super().save(*args, **kwargs)


class LabelChoice(models.Model):
    """One option of a layer of a corpus's label schema.

    Annotations point here with PROTECT, so a choice in use cannot be deleted silently.
    """

    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="choices")
    layer = models.CharField(max_length=20, choices=Layer.choices)
    value = models.SlugField(max_length=50, help_text="Stable machine value used in exports.")
    name = models.CharField(max_length=100, help_text="What annotators see.")
    key = models.CharField(
        max_length=1,
        validators=[validate_choice_key],
        help_text="Keyboard shortcut, unique in the corpus.",
    )
    order = models.PositiveSmallIntegerField(default=0)
    numeric_code = models.FloatField(
        null=True, blank=True, help_text="Numeric value for interval-level agreement."
    )

    objects = SchemaQuerySet.as_manager()

    class Meta:
        ordering = ["corpus", "layer", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["corpus", "layer", "value"], name="label_choice_unique_value"
            ),
            # One key, one action: keys are shared by both layers on the same page.
            models.UniqueConstraint(fields=["corpus", "key"], name="label_choice_unique_key"),
            models.CheckConstraint(
                condition=Q(layer__in=Layer.values), name="label_choice_layer_valid"
            ),
            models.CheckConstraint(condition=~Q(key=""), name="label_choice_key_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.get_layer_display()}: {self.name}"

    def is_used(self) -> bool:
        return self.annotations.exists() or self.gold_labels.exists()


class MembershipQuerySet(models.QuerySet["Membership"]):
    def annotators(self) -> MembershipQuerySet:
        return self.filter(role=Role.ANNOTATOR)

    def with_workload(self, corpus: Corpus) -> MembershipQuerySet:
        """The corpus's members, each with its articles in progress (`open`), `done` and
        `skipped` there, in one query however many members."""
        theirs = Assignment.objects.filter(annotator=OuterRef("user"), article__corpus=corpus)
        return self.filter(corpus=corpus).annotate(
            open=count_of(theirs.filter(status=AssignmentStatus.ASSIGNED)),
            done=count_of(theirs.filter(status=AssignmentStatus.DONE)),
            skipped=count_of(theirs.filter(status=AssignmentStatus.SKIPPED)),
        )

    def with_label_counts(self, corpus: Corpus) -> MembershipQuerySet:
        """Annotate `labels`: how many current labels each member has in the corpus."""
        return self.annotate(
            labels=count_of(
                Annotation.objects.filter(
                    annotator=OuterRef("user"), sentence__article__corpus=corpus
                )
            )
        )


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ANNOTATOR)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["corpus", "role", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "corpus"], name="membership_unique_user"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.corpus}"


class ArticleQuerySet(models.QuerySet["Article"]):
    def visible_to(self, user: User | AnonymousUser) -> ArticleQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(corpus__memberships__user=user)

    def with_counts(self) -> ArticleQuerySet:
        """Annotate `sentence_count` and `done_count` (annotators who finished the article)."""
        return self.annotate(
            sentence_count=count_of(Sentence.objects.filter(article=OuterRef("pk"))),
            done_count=_done_assignments(),
        )

    def complete(self) -> ArticleQuerySet:
        """Articles finished by as many annotators as their corpus asks for (see
        `Article.is_complete`)."""
        return self.filter(
            GreaterThanOrEqual(_done_assignments(), F("corpus__annotators_per_article"))
        )

    def with_places_taken(self) -> ArticleQuerySet:
        """Annotate `places_taken`: the assignments that hold one of the article's places.

        A subquery rather than a join and GROUP BY, so the assigner can lock the rows.
        """
        taken = Assignment.objects.filter(
            article=OuterRef("pk"), status__in=AssignmentStatus.HOLDING_PLACE
        )
        return self.annotate(places_taken=count_of(taken))

    def needing_annotators(self, annotators_per_article: int) -> ArticleQuerySet:
        """Articles with a free annotator place, annotated with `places_taken`."""
        # mypy misses annotations made by a QuerySet method (django-stubs#2917).
        return self.with_places_taken().filter(places_taken__lt=annotators_per_article)  # type: ignore[misc]


def _done_assignments() -> Subquery:
    return count_of(Assignment.objects.filter(article=OuterRef("pk"), status=AssignmentStatus.DONE))


class Article(models.Model):
    corpus = models.ForeignKey(Corpus, on_delete=models.PROTECT, related_name="articles")
    external_id = models.CharField(
        max_length=300, help_text="File name or JSONL id the article was imported from."
    )
    title = models.CharField(max_length=500, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    text = models.TextField(help_text="The raw text, verbatim; sentence offsets point into it.")
    content_hash = models.CharField(max_length=64)
    metadata = models.JSONField(default=dict, blank=True)
    segmenter_version = models.CharField(max_length=20, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["corpus", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["corpus", "external_id"], name="article_unique_external_id"
            ),
            # The same text under another file name is still the same article.
            models.UniqueConstraint(
                fields=["corpus", "content_hash"], name="article_unique_content"
            ),
            models.CheckConstraint(condition=~Q(text=""), name="article_text_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title or self.external_id

    def get_absolute_url(self) -> str:
        return reverse("annotator:article-detail", kwargs={"pk": self.pk})

    # Only on rows from ArticleQuerySet.with_counts(); declared for the type checker.
    sentence_count: int
    done_count: int

    @property
    def is_complete(self) -> bool:
        """Finished by as many annotators as the corpus asks for (needs
        `Article.objects.with_counts()`); `Article.objects.complete()` is the same test."""
        return self.done_count >= self.corpus.annotators_per_article


# The condition `SentenceQuerySet.counted()` applies, on the sentence table.
COUNTED = Q(excluded=False)


class SentenceQuerySet(models.QuerySet["Sentence"]):
    def visible_to(self, user: User | AnonymousUser) -> SentenceQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(article__corpus__memberships__user=user)

    def counted(self) -> SentenceQuerySet:
        """Sentences that count toward an article's figures (sentences, labels, disputes, gold
        coverage and agreement in the articles table), toward "complete", statistics, curation,
        exports and releases: every sentence a manager has not excluded as page furniture. The
        one place to leave out sentences that should not count."""
        return self.filter(COUNTED)

    def not_counted(self) -> SentenceQuerySet:
        """The sentences `counted()` leaves out (few: page furniture), to drop from rows read
        without a join on sentences."""
        return self.exclude(COUNTED)

    def with_counts_flag(self) -> SentenceQuerySet:
        """Annotate `counts`: whether `counted()` keeps the sentence, for a caller that reads
        every sentence once and sorts them itself."""
        return self.annotate(counts=ExpressionWrapper(COUNTED, output_field=models.BooleanField()))

    def incomplete_for(self, user: User, *, stance_targets: int) -> SentenceQuerySet:
        """Sentences `user` has not finished: no claim type, or fewer than `stance_targets`
        stances (pass 0 when the corpus does not require stance)."""
        mine = Annotation.objects.filter(sentence=OuterRef("pk"), annotator=user)
        incomplete: Q | Combinable = ~models.Exists(mine.filter(layer=Layer.CLAIM_TYPE))
        if stance_targets:
            incomplete |= Q(stance_count__lt=stance_targets)
            return self.annotate(stance_count=count_of(mine.filter(layer=Layer.STANCE))).filter(
                incomplete
            )
        return self.filter(incomplete)


class Zone(models.TextChoices):
    """Where on the page a sentence sits (annotator/zones.py suggests one on import)."""

    BODY = "body", "Article text"
    BOILERPLATE = "boilerplate", "Page furniture"
    COMMENTS = "comments", "Reader comments"


class Sentence(models.Model):
    """A span of its article's text: `article.text[start:end] == text` always holds.

    The text is stored too, so exports, curation and statistics never slice articles.
    Segmentation can be corrected (annotator/resegmenting.py), but the article's text never.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="sentences")
    ordinal = models.PositiveIntegerField()
    paragraph = models.PositiveIntegerField()
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField()
    zone = models.CharField(max_length=20, choices=Zone.choices, default=Zone.BODY)
    # The zones.py rule that suggested the zone ("" for sentences made before zones existed,
    # "manager" once a person chose it).
    zone_rule = models.CharField(max_length=40, blank=True)
    zone_confirmed = models.BooleanField(default=False)
    # Not article text (page furniture): never labelled, and left out of everything that
    # counts (SentenceQuerySet.counted). Exactly the sentences confirmed as boilerplate, so
    # excluding and confirming zones are one decision, never two that disagree.
    excluded = models.BooleanField(default=False)

    objects = SentenceQuerySet.as_manager()

    class Meta:
        ordering = ["article", "ordinal"]
        constraints = [
            models.CheckConstraint(condition=Q(zone__in=Zone.values), name="sentence_zone_valid"),
            models.CheckConstraint(
                condition=Q(excluded=True, zone=Zone.BOILERPLATE, zone_confirmed=True)
                | (Q(excluded=False) & ~Q(zone=Zone.BOILERPLATE, zone_confirmed=True)),
                name="sentence_excluded_is_confirmed_boilerplate",
            ),
            # Also the index for the article page and exports, which read sentences in order.
            models.UniqueConstraint(fields=["article", "ordinal"], name="sentence_unique_ordinal"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="sentence_not_empty"),
            models.CheckConstraint(
                condition=Q(end=F("start") + Length("text")), name="sentence_text_matches_span"
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class Annotation(models.Model):
    """The current label of one annotator for one sentence, layer and (for stance) target."""

    sentence = models.ForeignKey(Sentence, on_delete=models.PROTECT, related_name="annotations")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotations"
    )
    layer = models.CharField(max_length=20, choices=Layer.choices)
    target = models.ForeignKey(
        StanceTarget,
        on_delete=models.PROTECT,
        related_name="annotations",
        null=True,
        blank=True,
    )
    choice = models.ForeignKey(LabelChoice, on_delete=models.PROTECT, related_name="annotations")
    seconds_spent = models.FloatField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # What the model suggested when this label was saved (assisting.py): None when no
    # suggestion was computed, True when it was shown, False when it was hidden as a control
    # (`assisting.suggestion_is_hidden`). The statistics page compares agreement with the two.
    suggestion_visible = models.BooleanField(null=True, blank=True)
    suggested_choice = models.ForeignKey(
        LabelChoice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    suggestion_model = models.ForeignKey(
        "ModelVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["sentence", "annotator", "layer", "target"]
        constraints = [
            # Two partial indexes instead of one: a NULL target would otherwise never collide.
            models.UniqueConstraint(
                fields=["sentence", "annotator", "layer"],
                condition=Q(target__isnull=True),
                name="annotation_unique_claim_type",
            ),
            models.UniqueConstraint(
                fields=["sentence", "annotator", "layer", "target"],
                condition=Q(target__isnull=False),
                name="annotation_unique_stance",
            ),
            models.CheckConstraint(
                condition=(
                    Q(layer=Layer.CLAIM_TYPE, target__isnull=True)
                    | Q(layer=Layer.STANCE, target__isnull=False)
                ),
                name="annotation_target_matches_layer",
            ),
            models.CheckConstraint(
                condition=Q(seconds_spent__gte=0), name="annotation_seconds_not_negative"
            ),
        ]
        indexes = [
            # "My labels changed since T" (API filter, undo of the newest change).
            models.Index(fields=["annotator", "updated_at"], name="annotation_annotator_updated"),
            # Statistics and exports read one layer of a corpus at a time.
            models.Index(fields=["layer", "target", "sentence"], name="annotation_layer_sentence"),
        ]

    def __str__(self) -> str:
        return f"{self.annotator} {self.layer} on sentence {self.sentence_id}"


class AnnotationHistoryQuerySet(models.QuerySet["AnnotationHistory"]):
    def update(self, **kwargs: object) -> int:
        raise TypeError("Annotation history is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("Annotation history is append-only.")


class AnnotationHistory(models.Model):
    """Append-only log of every change to an annotation, kept after the annotation is undone."""

    sentence = models.ForeignKey(Sentence, on_delete=models.PROTECT, related_name="history")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotation_history"
    )
    layer = models.CharField(max_length=20, choices=Layer.choices)
    target = models.ForeignKey(
        StanceTarget, on_delete=models.PROTECT, related_name="history", null=True, blank=True
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotation_changes"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    old_value = models.CharField(max_length=50, blank=True)
    new_value = models.CharField(max_length=50, blank=True)
    # Set on the entry an undo writes: the history stays append-only, and repeated undos walk
    # further back instead of undoing the undo.
    undo_of = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="undone_by"
    )

    objects = AnnotationHistoryQuerySet.as_manager()

    class Meta:
        ordering = ["changed_at", "id"]
        verbose_name_plural = "annotation history"
        indexes = [
            # The annotator's own recent changes, newest first (undo).
            models.Index(fields=["annotator", "-changed_at"], name="history_annotator_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(old_value=F("new_value")), name="history_records_a_change"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.changed_by}: {self.old_value or '-'} -> {self.new_value or '-'}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise TypeError("Annotation history is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("Annotation history is append-only.")


class SentenceNote(models.Model):
    """An annotator's own unsure flag and note on a sentence (one per sentence and annotator)."""

    sentence = models.ForeignKey(Sentence, on_delete=models.PROTECT, related_name="notes")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sentence_notes"
    )
    unsure = models.BooleanField(default=False)
    note = models.CharField(max_length=1000, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sentence", "annotator"], name="sentence_note_unique_annotator"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.annotator} note on sentence {self.sentence_id}"


class SegmentationAction(models.TextChoices):
    SPLIT = "split", "Split a sentence"
    MERGE = "merge", "Merged two sentences"
    EXCLUDE = "exclude", "Excluded sentences"
    INCLUDE = "include", "Included sentences again"
    ZONES = "zones", "Confirmed zones"


class SegmentationChangeQuerySet(models.QuerySet["SegmentationChange"]):
    def update(self, **kwargs: object) -> int:
        raise TypeError("Segmentation history is append-only.")


class SegmentationChange(models.Model):
    """Append-only record of a correction to an article's sentences: who, when, what.

    `details` holds the spans before and after (offsets into the unchanging article text) and
    the ordinals involved, so the record still reads correctly after later renumbering.
    """

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="segmentation_changes"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="segmentation_changes"
    )
    action = models.CharField(max_length=20, choices=SegmentationAction.choices)
    details = models.JSONField(default=dict)
    changed_at = models.DateTimeField(default=timezone.now)

    objects = SegmentationChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=SegmentationAction.values),
                name="segmentation_change_action_valid",
            ),
        ]
        indexes = [
            # The article's history on its segmentation page, newest first.
            models.Index(fields=["article", "-changed_at"], name="segmentation_change_article"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.action} on article {self.article_id}"


class AssignmentStatus(models.TextChoices):
    ASSIGNED = "assigned", "In progress"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"

    # Statuses that hold one of an article's annotator places; a skipped one gives its place
    # back. Set below the class: inside it, it would become a member.
    HOLDING_PLACE: ClassVar[tuple[AssignmentStatus, ...]]


AssignmentStatus.HOLDING_PLACE = (AssignmentStatus.ASSIGNED, AssignmentStatus.DONE)


class Assignment(models.Model):
    """Who works on which article; counts against the corpus's annotators per article."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="assignments")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    status = models.CharField(
        max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.ASSIGNED
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assignments_given",
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    skip_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-assigned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "annotator"], name="assignment_unique_annotator"
            ),
            models.CheckConstraint(
                condition=Q(status__in=AssignmentStatus.values), name="assignment_status_valid"
            ),
        ]
        indexes = [
            # "Continue my unfinished article" and the annotator's progress.
            models.Index(fields=["annotator", "status"], name="assignment_annotator_status"),
            # How many annotators an article has (assignment) and corpus progress.
            models.Index(fields=["article", "status"], name="assignment_article_status"),
        ]

    def __str__(self) -> str:
        return f"{self.annotator} on article {self.article_id} ({self.status})"


class GoldMethod(models.TextChoices):
    UNANIMOUS = "unanimous", "Unanimous"
    MAJORITY = "majority", "Majority"
    ADJUDICATED = "adjudicated", "Adjudicated"


class GoldLabelQuerySet(models.QuerySet["GoldLabel"]):
    def for_layer(self, layer: str, target: StanceTarget | None) -> GoldLabelQuerySet:
        return self.filter(layer=layer, target=target)

    def with_staleness(self) -> GoldLabelQuerySet:
        """Annotate `stale`: an annotation of the same sentence, layer and target changed (or was
        removed) after the gold label was decided, so a curator should look again.

        Gold is never rewritten by annotating; this flag is how later changes are shown.
        """
        same_unit = Q(sentence=models.OuterRef("sentence"), layer=models.OuterRef("layer")) & (
            Q(target=models.OuterRef("target")) | Q(target__isnull=True)
        )
        changed = Annotation.objects.filter(same_unit, updated_at__gt=models.OuterRef("decided_at"))
        # Undone annotations leave no row behind, only their history.
        logged = AnnotationHistory.objects.filter(
            same_unit, changed_at__gt=models.OuterRef("decided_at")
        )
        return self.annotate(stale=models.Exists(changed) | models.Exists(logged))


class GoldLabel(models.Model):
    """The settled label of a sentence for a layer (and target), kept apart from annotations."""

    sentence = models.ForeignKey(Sentence, on_delete=models.PROTECT, related_name="gold_labels")
    layer = models.CharField(max_length=20, choices=Layer.choices)
    target = models.ForeignKey(
        StanceTarget, on_delete=models.PROTECT, related_name="gold_labels", null=True, blank=True
    )
    choice = models.ForeignKey(LabelChoice, on_delete=models.PROTECT, related_name="gold_labels")
    method = models.CharField(max_length=20, choices=GoldMethod.choices)
    confirmed = models.BooleanField(
        default=True, help_text="False for a majority pre-fill a curator has not confirmed yet."
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gold_decisions"
    )
    decided_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=1000, blank=True)

    objects = GoldLabelQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sentence", "layer"],
                condition=Q(target__isnull=True),
                name="gold_unique_claim_type",
            ),
            models.UniqueConstraint(
                fields=["sentence", "layer", "target"],
                condition=Q(target__isnull=False),
                name="gold_unique_stance",
            ),
            models.CheckConstraint(
                condition=(
                    Q(layer=Layer.CLAIM_TYPE, target__isnull=True)
                    | Q(layer=Layer.STANCE, target__isnull=False)
                ),
                name="gold_target_matches_layer",
            ),
            models.CheckConstraint(
                condition=Q(method__in=GoldMethod.values), name="gold_method_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Gold {self.layer} on sentence {self.sentence_id} ({self.method})"


class ArticleStatus(models.TextChoices):
    """Where an article stands, from its assignments; each article is in exactly one status.

    Done: finished by as many annotators as the corpus asks for. In progress: not done, but
    someone holds a place on it or finished it. Skipped: nobody holds a place on it, but
    someone skipped it (or it expired or was taken back). Unassigned: never given to anyone.
    `ArticleStatsQuerySet.with_status` (SQL) and `ArticleStats.status` (one row) both follow
    `ArticleStatus.condition`, the one statement of this rule.
    """

    UNASSIGNED = "unassigned", "Unassigned"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"

    @classmethod
    def condition(cls, status: str, per_article: int) -> Q:
        """The status as a condition on an ArticleStats row's assignment counts."""
        started = Q(in_progress__gt=0) | Q(done__gt=0)
        if status == cls.DONE:
            return Q(done__gte=per_article)
        if status == cls.IN_PROGRESS:
            return Q(done__lt=per_article) & started
        if status == cls.SKIPPED:
            return Q(in_progress=0, done=0, skipped__gt=0)
        if status == cls.UNASSIGNED:
            return Q(in_progress=0, done=0, skipped=0)
        raise ValueError(f"status must be one of {', '.join(cls.values)}, not {status!r}")


Range = tuple[float | None, float | None]


@dataclass(frozen=True)
class ArticleFilter:
    """What the articles table and bulk assignment select articles by; every part optional.

    Ranges are inclusive (low, high); `gold` and `agreement` are shares from 0 to 1. An article
    without an agreement figure (no sentence with two labels) matches no agreement range.
    """

    text: str = ""
    status: str = ""
    annotator: int | None = None
    their_status: str = ""
    labels: Range = (None, None)
    disputed: Range = (None, None)
    gold: Range = (None, None)
    agreement: Range = (None, None)


# The articles table's sort keys: the column each sorts by (the article id breaks ties).
ARTICLE_SORTS = {
    "article": "article_id",
    "labels": "labels",
    "disputed": "disputed",
    "gold": "gold_coverage",
    "agreement": "agreement",
}


class ArticleStatsQuerySet(models.QuerySet["ArticleStats"]):
    def with_status(self, status: str, per_article: int) -> ArticleStatsQuerySet:
        return self.filter(ArticleStatus.condition(status, per_article))

    def matching(self, chosen: ArticleFilter, *, per_article: int) -> ArticleStatsQuerySet:
        """The rows that pass every part of the filter (the corpus is the caller's to set)."""
        rows: ArticleStatsQuerySet = self
        if chosen.text.strip():
            rows = rows.matching_text(chosen.text)
        if chosen.status:
            rows = rows.with_status(chosen.status, per_article)
        if chosen.annotator is not None:
            rows = rows.with_annotator(chosen.annotator, chosen.their_status or None)
        for column, (low, high) in (
            ("labels", chosen.labels),
            ("disputed", chosen.disputed),
            ("gold_coverage", chosen.gold),
            ("agreement", chosen.agreement),
        ):
            if low is not None:
                rows = rows.filter(**{f"{column}__gte": low})
            if high is not None:
                rows = rows.filter(**{f"{column}__lte": high})
        return rows

    def sorted_by(self, key: str) -> ArticleStatsQuerySet:
        """Sort by an `ARTICLE_SORTS` key, "-key" for descending. Every column has an index
        that starts with the corpus, so a page of rows is read from it, not sorted in memory;
        articles without agreement come last either way."""
        descending = key.startswith("-")
        column = ARTICLE_SORTS[key.removeprefix("-")]
        if column == "article_id":
            return self.order_by(f"{'-' if descending else ''}article_id")
        if column == "agreement":  # the one column with NULLs: they go last both ways
            if descending:
                return self.order_by(F(column).desc(nulls_last=True), "-article_id")
            return self.order_by(F(column).asc(nulls_last=True), "article_id")
        # Plain ASC/DESC on NOT NULL columns, so that each matches its index (read backwards
        # when descending); spelling out NULLS LAST would make PostgreSQL sort every row.
        if descending:
            return self.order_by(f"-{column}", "-article_id")
        return self.order_by(column, "article_id")

    def with_annotator(self, user_id: int, status: str | None = None) -> ArticleStatsQuerySet:
        """Articles the user has (or had) an assignment on, in `status` if given."""
        theirs = Assignment.objects.filter(article=OuterRef("article"), annotator_id=user_id)
        if status:
            theirs = theirs.filter(status=status)
        return self.filter(models.Exists(theirs))

    def matching_text(self, text: str) -> ArticleStatsQuerySet:
        """Articles whose title or external id contains `text` (any case), or whose id it is
        ("#123" looks up the id alone).

        On PostgreSQL, trigram indexes on the article's title and external id (migration
        0003_article_stats) answer the "contains" without reading every article.
        """
        text = text.strip()
        if text.startswith("#") and (number := whole_number(text[1:], max_digits=10)) is not None:
            return self.filter(article_id=number)
        condition = Q(article__title__icontains=text) | Q(article__external_id__icontains=text)
        if (number := whole_number(text, max_digits=10)) is not None:
            condition |= Q(article_id=number)
        return self.filter(condition)

    def changed_since_counted(self) -> ArticleStatsQuerySet:
        """Rows whose labels or gold changed after their figures were counted, or that were
        never counted. Meant for a page of rows: it looks at each row's history."""
        after = OuterRef("refreshed_at")
        in_article = Q(sentence__article=OuterRef("article"))
        return self.filter(
            Q(refreshed_at__isnull=True)
            | models.Exists(AnnotationHistory.objects.filter(in_article, changed_at__gt=after))
            | models.Exists(GoldLabel.objects.filter(in_article, decided_at__gt=after))
            # Split, merged or excluded sentences, confirmed zones.
            | models.Exists(
                SegmentationChange.objects.filter(article=OuterRef("article"), changed_at__gt=after)
            )
        )


class ArticleStats(models.Model):
    """One article's figures for the managers' articles table, so that sorting and filtering
    100,000 articles reads one narrow row each instead of millions of annotations.

    Two kinds of column. The assignment counts (`in_progress`, `done`, `skipped`) are live:
    every function of assigning.py that changes an assignment recounts them in the same
    transaction. The figures from labels and gold are counted by `article_stats.refresh_figures`
    when an article is finished or reopened, when its gold changes, and on demand; they are as
    of `refreshed_at` (None: not counted yet), because recounting on every label save would slow
    down the annotators' busiest request.
    """

    article = models.OneToOneField(
        Article, on_delete=models.CASCADE, primary_key=True, related_name="stats"
    )
    # The article's corpus, repeated so that every index below can start with it (they serve
    # the foreign key too, hence no index of its own).
    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="+", db_index=False)
    in_progress = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    sentences = models.PositiveIntegerField(default=0)
    labels = models.PositiveIntegerField(default=0)
    disputed = models.PositiveIntegerField(default=0)
    gold = models.PositiveIntegerField(
        default=0, help_text="Sentences with a confirmed gold claim type."
    )
    gold_coverage = models.FloatField(default=0, help_text="gold / sentences, from 0 to 1.")
    agreement = models.FloatField(
        null=True,
        blank=True,
        help_text="Mean per-unit agreement of the article's sentences and layers with two or "
        "more labels (agreement.mean_unit_agreement); None when there are none.",
    )
    refreshed_at = models.DateTimeField(null=True, blank=True)

    objects = ArticleStatsQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "article stats"
        constraints = [
            models.CheckConstraint(
                condition=Q(gold_coverage__gte=0, gold_coverage__lte=1),
                name="article_stats_gold_coverage_share",
            ),
            models.CheckConstraint(
                condition=Q(agreement__isnull=True) | Q(agreement__gte=0, agreement__lte=1),
                name="article_stats_agreement_share",
            ),
            models.CheckConstraint(
                condition=Q(gold__lte=F("sentences"), disputed__lte=F("sentences")),
                name="article_stats_counts_within_sentences",
            ),
        ]
        indexes = [
            # The articles table in import order (its default), and its row count.
            models.Index(fields=["corpus", "article"], name="article_stats_corpus"),
            # The articles table sorted by each figure; the article id breaks ties.
            models.Index(fields=["corpus", "labels", "article"], name="article_stats_labels"),
            models.Index(fields=["corpus", "disputed", "article"], name="article_stats_disputed"),
            models.Index(fields=["corpus", "gold_coverage", "article"], name="article_stats_gold"),
            models.Index(fields=["corpus", "agreement", "article"], name="article_stats_agreement"),
            # Highest agreement first with the articles without agreement last, which the index
            # above read backwards would put first, is served by `article_stats_agreement_desc`
            # (corpus, agreement DESC NULLS LAST, article DESC), made in migration
            # 0003_article_stats on PostgreSQL only: SQLite has no NULLS LAST in an index.
            # The status filters (`ArticleStatus.condition`) and their counts, answered from
            # the index alone; the unassigned articles come out in import order.
            models.Index(
                fields=["corpus", "done", "in_progress", "skipped", "article"],
                name="article_stats_status",
            ),
        ]

    def __str__(self) -> str:
        return f"Figures of article {self.article_id}"

    def status(self, per_article: int) -> str:
        """This row's `ArticleStatus` (see `ArticleStatus.condition`)."""
        if self.done >= per_article:
            return ArticleStatus.DONE
        if self.in_progress or self.done:
            return ArticleStatus.IN_PROGRESS
        if self.skipped:
            return ArticleStatus.SKIPPED
        return ArticleStatus.UNASSIGNED


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """A web upload being imported in the background, with progress the page polls.

    The uploaded bytes wait in the database (UploadChunk), not on one web host's disk, so any
    worker can run the job and any web host can show it. `attempts` counts the runs started:
    a run whose worker died is started again from the beginning (the import is all or
    nothing) up to settings.IMPORT_MAX_ATTEMPTS; it also fences a superseded run's writes.
    """

    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file_name = models.CharField(max_length=300)
    # Bytes of the upload still stored in UploadChunk rows; 0 once imported or rejected.
    upload_bytes = models.PositiveBigIntegerField(default=0)
    status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ImportStatus.values), name="import_job_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Import of {self.file_name} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)

    @property
    def can_retry(self) -> bool:
        """Failed without a verdict on its content (its run was cut off), upload still kept."""
        return self.status == ImportStatus.FAILED and self.upload_bytes > 0


class UploadChunk(models.Model):
    """One piece, in order, of an ImportJob's uploaded file.

    In the database rather than on disk so that every web host and worker reads the same
    bytes; a BinaryField (bytea on PostgreSQL, BLOB on SQLite) in pieces keeps each row and
    each read small whatever the upload's size.
    """

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="upload_chunks")
    ordinal = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            # Also the index the worker reads the pieces in order through.
            models.UniqueConstraint(fields=["job", "ordinal"], name="upload_chunk_unique_ordinal")
        ]

    def __str__(self) -> str:
        return f"Chunk {self.ordinal} of import job {self.job_id}"


class WorkerHeartbeat(models.Model):
    """A background worker (`manage.py db_worker`) saying it is alive, every few seconds.

    `seen_at` is the database's clock, so hosts whose clocks disagree still agree on who is
    late. `running_task` is the django-tasks-db task it is running, if any.
    """

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField()
    running_task = models.UUIDField(null=True, blank=True)

    class Meta:
        indexes = [
            # "Has any worker been seen lately" (readyz, the import page) and the recovery sweep.
            models.Index(fields=["seen_at"], name="worker_heartbeat_seen_at"),
        ]

    def __str__(self) -> str:
        return f"Worker {self.worker_id} on {self.hostname} (pid {self.pid})"


class SiteActivity(models.Model):
    """When a person last used the site (a page or htmx request), on any web host: one row.

    Background work reads it to give way to annotators (annotator/activity.py). `last_seen`
    is the database's clock, so hosts whose clocks disagree still agree on "recently".
    """

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID)
    last_seen = models.DateTimeField()

    class Meta:
        verbose_name_plural = "site activity"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="site_activity_is_a_single_row"),
        ]

    def __str__(self) -> str:
        return f"Site activity, last seen {self.last_seen:%Y-%m-%d %H:%M:%S}"


class ApiToken(models.Model):
    """A personal API token; only its SHA-256 is stored, the token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="First characters, to tell tokens apart.")
    key_hash = models.CharField(max_length=64, unique=True)
    # Digest of the user's password hash when the token was made (tokens.password_fingerprint):
    # a token stops working once the password changes, by whatever path it changed.
    password_fingerprint = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


# --- Dataset releases (annotator/releases/) ---------------------------------------------------


class ReleaseStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    BUILDING = "building", "Building"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class RecordInclusion(models.TextChoices):
    GOLD_OR_MAJORITY = "gold_or_majority", "Sentences with a gold label or a majority of 2+ labels"
    ANY_LABEL = "any_label", "Sentences with any label (single-annotator labels too)"
    ALL = "all", "Every sentence, labelled or not"


class Split(models.TextChoices):
    TRAIN = "train", "Train"
    VALIDATION = "validation", "Validation"
    TEST = "test", "Test"


class ReleaseQuerySet(models.QuerySet["Release"]):
    def ready(self) -> ReleaseQuerySet:
        return self.filter(status=ReleaseStatus.READY)


class Release(models.Model):
    """A numbered, immutable snapshot of a corpus, built into files by the background worker.

    Options are fixed when the release is cut; the facts of the snapshot (schema, guidelines,
    agreement, counts, files) are written once, when the build succeeds, and never again.
    """

    corpus = models.ForeignKey(Corpus, on_delete=models.PROTECT, related_name="releases")
    number = models.PositiveIntegerField()
    note = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=ReleaseStatus.choices, default=ReleaseStatus.QUEUED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    snapshot_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Options, chosen when the release is cut.
    include = models.CharField(
        max_length=20, choices=RecordInclusion.choices, default=RecordInclusion.GOLD_OR_MAJORITY
    )
    context = models.BooleanField(default=False)
    anonymize = models.BooleanField(default=True)
    seed = models.CharField(max_length=100, default="0")
    train = models.FloatField(default=0.8)
    validation = models.FloatField(default=0.1)
    test = models.FloatField(default=0.1)
    license = models.CharField(max_length=100, default="other")
    # The snapshot's facts, written by the build.
    schema_version = models.PositiveIntegerField(null=True, blank=True)
    segmenter_versions = models.JSONField(default=list, blank=True)
    guidelines = models.TextField(blank=True)
    schema = models.JSONField(default=dict, blank=True)
    agreement = models.JSONField(default=list, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    files = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    objects = ReleaseQuerySet.as_manager()

    class Meta:
        ordering = ["corpus", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["corpus", "number"], name="release_unique_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="release_number_positive"),
            models.CheckConstraint(
                condition=Q(status__in=ReleaseStatus.values), name="release_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(include__in=RecordInclusion.values), name="release_include_valid"
            ),
            models.CheckConstraint(
                condition=Q(train__gt=0, train__lte=1)
                & Q(validation__gte=0, validation__lte=1)
                & Q(test__gte=0, test__lte=1),
                name="release_proportions_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.corpus} release {self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A ready release is a published snapshot: nothing about it changes afterwards.
        if (
            self.pk is not None
            and Release.objects.filter(pk=self.pk, status=ReleaseStatus.READY).exists()
        ):
            raise TypeError(f"{self} is published and cannot change.")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse(
            "annotator:release-detail", kwargs={"slug": self.corpus.slug, "number": self.number}
        )

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if Release.objects.filter(pk=self.pk, status=ReleaseStatus.READY).exists():
            raise TypeError(f"{self} is published and cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def proportions(self) -> dict[str, float]:
        return {"train": self.train, "validation": self.validation, "test": self.test}

    def file(self, name: str) -> dict[str, object] | None:
        """The manifest entry of one of the release's files, by its name in the release."""
        return next((entry for entry in self.files if entry["name"] == name), None)


class ArticleSplit(models.Model):
    """The split an article was put in by the first release that included it, for good.

    Later releases reuse it, so a sentence never moves between train, validation and test.
    `stratum` is the article's dominant claim-type label when it was assigned.
    """

    article = models.OneToOneField(Article, on_delete=models.CASCADE, related_name="split")
    split = models.CharField(max_length=20, choices=Split.choices)
    stratum = models.CharField(max_length=50, blank=True)
    # A number, not a foreign key: the release row is updated while the build that writes
    # these rows runs in its own snapshot transaction.
    release_number = models.PositiveIntegerField()
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(split__in=Split.values), name="article_split_valid"),
        ]

    def __str__(self) -> str:
        return f"Article {self.article_id}: {self.split}"


# --- Model assistance (annotator/assisting.py, annotator/modelling.py) --------------------------


class ModelKind(models.TextChoices):
    TRAINED = "trained", "Trained here"
    EXTERNAL = "external", "External"


class ModelStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class LabelSource(models.TextChoices):
    GOLD = "gold", "Confirmed gold labels"
    MAJORITY = "majority", "Majority of annotators' labels"


# The name trained model versions go by (external ones carry the name they were posted with).
BASELINE_MODEL_NAME = "baseline"


class ModelVersionQuerySet(models.QuerySet["ModelVersion"]):
    def for_layer(self, corpus: Corpus, layer: str, target: StanceTarget | None) -> QuerySet:
        return self.filter(corpus=corpus, layer=layer, target=target)

    def trained(self) -> ModelVersionQuerySet:
        return self.filter(kind=ModelKind.TRAINED)

    def done(self) -> ModelVersionQuerySet:
        return self.filter(status=ModelStatus.DONE)

    def current(
        self, corpus: Corpus, layer: str, target: StanceTarget | None
    ) -> ModelVersion | None:
        """The newest finished trained version of a corpus's layer (and target), or None;
        its stored model (megabytes) is left unread until asked for."""
        return (
            self.trained()
            .done()
            .for_layer(corpus, layer, target)
            .defer("model_bytes")
            .order_by("-number")
            .first()
        )


class ModelVersion(models.Model):
    """One model of one layer (and stance target) of a corpus, with what it predicted.

    A trained version (`kind` trained, `name` "baseline", `version` its `number`) is fitted by
    the background worker on the corpus's labels (`assisting.train_model_version`): `data`
    describes the training snapshot, `parameters` the settings, `scores` the evaluation,
    `model_bytes` the fitted model (`modelling.TrainedModel.to_bytes`). An external version
    is the name and version that predictions posted through the API or imported carried.
    """

    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="model_versions")
    layer = models.CharField(max_length=20, choices=Layer.choices)
    target = models.ForeignKey(
        StanceTarget,
        on_delete=models.CASCADE,
        related_name="model_versions",
        null=True,
        blank=True,
    )
    kind = models.CharField(max_length=20, choices=ModelKind.choices, default=ModelKind.TRAINED)
    name = models.CharField(max_length=100, default=BASELINE_MODEL_NAME)
    version = models.CharField(max_length=100)
    # Trained versions count 1, 2, 3 ... per corpus, layer and target; None for external ones.
    number = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=ModelStatus.choices, default=ModelStatus.QUEUED
    )
    label_source = models.CharField(max_length=20, choices=LabelSource.choices, blank=True)
    # The training snapshot: label counts per class, sentences, articles, label source and a
    # hash of the sentence ids, so two versions trained on the same data can be told apart.
    data = models.JSONField(default=dict, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    # modelling.Evaluation.to_dict(), or modelling.Readiness.to_dict() under "readiness" when
    # there was too little data.
    scores = models.JSONField(default=dict, blank=True)
    model_bytes = models.BinaryField(null=True, blank=True)
    # The corpus's label count when this version was asked for: `retrain_every` counts new
    # labels from it.
    labels_seen = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["corpus", "layer", "target", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["corpus", "layer", "name", "version"],
                condition=Q(target__isnull=True),
                name="model_version_unique_claim_type",
            ),
            models.UniqueConstraint(
                fields=["corpus", "layer", "target", "name", "version"],
                condition=Q(target__isnull=False),
                name="model_version_unique_stance",
            ),
            models.CheckConstraint(
                condition=(
                    Q(layer=Layer.CLAIM_TYPE, target__isnull=True)
                    | Q(layer=Layer.STANCE, target__isnull=False)
                ),
                name="model_version_target_matches_layer",
            ),
            models.CheckConstraint(
                condition=Q(layer__in=Layer.values), name="model_version_layer_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ModelKind.values), name="model_version_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ModelStatus.values), name="model_version_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(label_source__in=[*LabelSource.values, ""]),
                name="model_version_label_source_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind=ModelKind.EXTERNAL) | Q(number__isnull=False),
                name="model_version_trained_has_number",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="model_version_name_not_empty"),
        ]
        indexes = [
            # The current trained version of a layer (ModelVersionQuerySet.current).
            models.Index(
                fields=["corpus", "layer", "target", "kind", "status", "number"],
                name="model_version_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version} ({self.layer}) in corpus {self.corpus_id}"

    @property
    def finished(self) -> bool:
        return self.status in (ModelStatus.DONE, ModelStatus.FAILED)


class PredictionQuerySet(models.QuerySet["Prediction"]):
    def for_layer(self, layer: str, target: StanceTarget | int | None) -> PredictionQuerySet:
        return self.filter(layer=layer, target=target)


class Prediction(models.Model):
    """A model version's label for one sentence (for one layer and target), with its score.

    `layer` and `target` repeat the model version's, so a sentence's predictions are read from
    one index without a join. `probabilities` maps each label value to its probability (when
    the model gave them); `held_out_probabilities` does the same for a trained version's
    out-of-fold prediction of a labelled sentence (predicted by the fold model that did not see
    its article), which `assisting.label_issues` checks labels against.
    """

    sentence = models.ForeignKey(Sentence, on_delete=models.CASCADE, related_name="predictions")
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="predictions"
    )
    layer = models.CharField(max_length=20, choices=Layer.choices)
    target = models.ForeignKey(
        StanceTarget, on_delete=models.CASCADE, related_name="predictions", null=True, blank=True
    )
    choice = models.ForeignKey(LabelChoice, on_delete=models.CASCADE, related_name="predictions")
    score = models.FloatField(help_text="Probability (0 to 1) the model gives its label.")
    probabilities = models.JSONField(null=True, blank=True)
    held_out_probabilities = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = PredictionQuerySet.as_manager()

    class Meta:
        ordering = ["model_version", "sentence"]
        constraints = [
            # Also the index that lists one version's predictions (API, exports, label issues).
            models.UniqueConstraint(
                fields=["model_version", "sentence"], name="prediction_unique_sentence"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=1), name="prediction_score_probability"
            ),
            models.CheckConstraint(
                condition=(
                    Q(layer=Layer.CLAIM_TYPE, target__isnull=True)
                    | Q(layer=Layer.STANCE, target__isnull=False)
                ),
                name="prediction_target_matches_layer",
            ),
        ]
        indexes = [
            # A sentence's predictions on the article and curation pages (suggestions).
            models.Index(fields=["sentence", "layer", "target"], name="prediction_sentence_layer"),
        ]

    def __str__(self) -> str:
        return f"Prediction {self.layer} on sentence {self.sentence_id} by {self.model_version_id}"


class ArticleUncertainty(models.Model):
    """How unsure the newest models are about an article's sentences, for uncertainty-first
    assignment (`Corpus.assignment_order`): written by `uncertainty.refresh_article_uncertainty`
    whenever predictions are stored, read by `assigning.next_assignment` in its ORDER BY, so
    picking an article costs no more than in import order."""

    article = models.OneToOneField(
        Article, on_delete=models.CASCADE, primary_key=True, related_name="uncertainty"
    )
    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="+")
    # Mean over the article's predicted sentences and layers of the normalised entropy of the
    # newest prediction (modelling.entropy): 0 certain, 1 uniform over the labels.
    mean_entropy = models.FloatField()
    # Mean of 1 - sum p^2 (modelling.dispute): how likely two annotators would disagree.
    mean_dispute = models.FloatField()
    predictions = models.PositiveIntegerField(help_text="Sentence predictions averaged.")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "article uncertainties"
        constraints = [
            models.CheckConstraint(
                condition=Q(mean_entropy__gte=0, mean_entropy__lte=1),
                name="article_uncertainty_entropy_share",
            ),
            models.CheckConstraint(
                condition=Q(mean_dispute__gte=0, mean_dispute__lte=1),
                name="article_uncertainty_dispute_share",
            ),
        ]

    def __str__(self) -> str:
        return f"Uncertainty of article {self.article_id}: {self.mean_entropy:.3f}"
