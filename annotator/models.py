"""Tables, their invariants (as named database constraints), QuerySets and one-row behaviour.

Writes that span several models live in the module named for the job (importing.py, ...);
this module only knows how one row behaves and how to ask for many.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Length
from django.urls import reverse
from django.utils import timezone

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class Layer(models.TextChoices):
    CLAIM_TYPE = "claim_type", "Claim type"
    STANCE = "stance", "Stance"


class Role(models.TextChoices):
    MANAGER = "manager", "Manager"
    CURATOR = "curator", "Curator"
    ANNOTATOR = "annotator", "Annotator"


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


def content_hash(text: str) -> str:
    """Identity of an article's text: the same text is never stored twice in a corpus."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class SchemaQuerySet(models.QuerySet):
    """Label choices and stance targets: bulk_create bumps the corpora's schema_version as a
    single save does (the workspace caches a corpus's schema by that version, so a write that
    does not bump it leaves annotators with a stale schema).

    QuerySet.update/delete/bulk_update skip the models' save and delete too: the code that
    calls them bumps the version itself (corpora.move_in_order, the admin's bulk delete).
    """

    def bulk_create(self, objs: object, *args: object, **kwargs: object) -> list:
        created = super().bulk_create(objs, *args, **kwargs)
        corpus_ids = {obj.corpus_id for obj in created}
        if corpus_ids:
            Corpus.objects.filter(pk__in=corpus_ids).update(schema_version=F("schema_version") + 1)
        return created


class CorpusQuerySet(models.QuerySet["Corpus"]):
    def for_user(self, user: AbstractBaseUser | AnonymousUser) -> CorpusQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)

    def with_role(
        self, user: AbstractBaseUser | AnonymousUser, roles: tuple[str, ...]
    ) -> CorpusQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user, memberships__role__in=roles)


class Corpus(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    guidelines = models.TextField(blank=True, help_text="Annotation guidelines in Markdown.")
    annotators_per_article = models.PositiveSmallIntegerField(default=2)
    stance_required = models.BooleanField(
        default=False,
        help_text="Whether an article counts as done only when every sentence has a stance.",
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

    def role_of(self, user: AbstractBaseUser | AnonymousUser) -> str | None:
        if not user.is_authenticated:
            return None
        return self.memberships.filter(user=user).values_list("role", flat=True).first()


class StanceTarget(models.Model):
    """A proposition or entity whose stance annotators judge, e.g. "China–North Korea alliance"."""

    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="stance_targets")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    objects = SchemaQuerySet.as_manager()

    class Meta:
        ordering = ["corpus", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["corpus", "name"], name="stance_target_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        super().save(*args, **kwargs)
        self.corpus.bump_schema_version()

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        corpus = self.corpus
        deleted = super().delete(*args, **kwargs)
        corpus.bump_schema_version()
        return deleted


class LabelChoice(models.Model):
    """One option of a layer of a corpus's label schema.

    Annotations point here with PROTECT, so a choice in use cannot be deleted silently.
    """

    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="choices")
    layer = models.CharField(max_length=20, choices=Layer.choices)
    value = models.SlugField(max_length=50, help_text="Stable machine value used in exports.")
    name = models.CharField(max_length=100, help_text="What annotators see.")
    key = models.CharField(max_length=1, help_text="Keyboard shortcut, unique in the corpus.")
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

    def save(self, *args: object, **kwargs: object) -> None:
        super().save(*args, **kwargs)
        self.corpus.bump_schema_version()

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        corpus = self.corpus
        deleted = super().delete(*args, **kwargs)
        corpus.bump_schema_version()
        return deleted

    def clean(self) -> None:
        # Exports and stored gold name choices by value: a value in use stays what it is.
        if self.pk is None:
            return
        stored = LabelChoice.objects.filter(pk=self.pk).values_list("value", flat=True).first()
        if stored is not None and stored != self.value and self.is_used():
            raise ValidationError(
                {
                    "value": f"“{stored}” is used by annotations or gold labels and exports "
                    "name it; it cannot change. Edit the display name instead."
                }
            )

    def is_used(self) -> bool:
        return self.annotations.exists() or self.gold_labels.exists()


class MembershipQuerySet(models.QuerySet["Membership"]):
    def annotators(self) -> MembershipQuerySet:
        return self.filter(role=Role.ANNOTATOR)


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
    def visible_to(self, user: AbstractBaseUser | AnonymousUser) -> ArticleQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(corpus__memberships__user=user)

    def needing_annotators(self, annotators_per_article: int) -> ArticleQuerySet:
        """Articles with a free annotator place, annotated with `places_taken`.

        A subquery rather than a join and GROUP BY, so the assigner can lock the rows.
        """
        taken = (
            Assignment.objects.filter(
                article=models.OuterRef("pk"),
                status__in=(AssignmentStatus.ASSIGNED, AssignmentStatus.DONE),
            )
            .order_by()
            .values("article")
            .annotate(count=models.Count("pk"))
            .values("count")
        )
        return self.annotate(places_taken=Coalesce(models.Subquery(taken), 0)).filter(
            places_taken__lt=annotators_per_article
        )


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


class SentenceQuerySet(models.QuerySet["Sentence"]):
    def visible_to(self, user: AbstractBaseUser | AnonymousUser) -> SentenceQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(article__corpus__memberships__user=user)

    def incomplete_for(self, user: AbstractBaseUser, *, stance_targets: int) -> SentenceQuerySet:
        """Sentences `user` has not finished: no claim type, or fewer than `stance_targets`
        stances (pass 0 when the corpus does not require stance)."""
        mine = Annotation.objects.filter(sentence=models.OuterRef("pk"), annotator=user)
        incomplete = ~models.Exists(mine.filter(layer=Layer.CLAIM_TYPE))
        if stance_targets:
            stances = (
                mine.filter(layer=Layer.STANCE)
                .order_by()
                .values("sentence")
                .annotate(count=models.Count("pk"))
                .values("count")
            )
            incomplete |= Q(stance_count__lt=stance_targets)
            return self.annotate(stance_count=Coalesce(models.Subquery(stances), 0)).filter(
                incomplete
            )
        return self.filter(incomplete)


class Sentence(models.Model):
    """A span of its article's text: `article.text[start:end] == text` always holds.

    The text is stored too, so exports, curation and statistics never slice articles.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="sentences")
    ordinal = models.PositiveIntegerField()
    paragraph = models.PositiveIntegerField()
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField()

    objects = SentenceQuerySet.as_manager()

    class Meta:
        ordering = ["article", "ordinal"]
        constraints = [
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


class AssignmentStatus(models.TextChoices):
    ASSIGNED = "assigned", "In progress"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"


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


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """A web upload being imported in the background, with progress the page polls."""

    corpus = models.ForeignKey(Corpus, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file_name = models.CharField(max_length=300)
    upload = models.FileField(upload_to="imports/", blank=True)
    status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
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


class ApiToken(models.Model):
    """A personal API token; only its SHA-256 is stored, the token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="First characters, to tell tokens apart.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
