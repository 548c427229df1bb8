"""The Django admin: superusers' window on every table, for inspection and repair.

Managers run their corpora from the app's own pages (settings, members, label schema, stance
targets, assignment, import, export); the admin is not a second manager UI, and staff who are
not superusers see none of our models in it. Writes that carry rules go through the functions
that hold those rules, as every other entry point does: creating a corpus (`create_corpus`),
memberships (`add_member`, `change_role`, `remove_member`), label choices and stance targets
(`save_choice`, `delete_choice`, `save_target`, `delete_target`, with the schema-version bump)
and revoking tokens (`revoke_token`). A refusal comes back as an error message and nothing is
written. Articles, sentences, labels and their history, notes, assignments, gold labels and
import jobs are read-only; imports are started and watched on the corpus's Import page.

Counts are correlated subqueries (`count_of`) on the changelist query, so a page costs the same
number of queries whatever it shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.contrib import admin, messages
from django.contrib.admin.utils import model_ngettext
from django.db.models import OuterRef, QuerySet, URLField
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.urls import reverse

from annotator import models
from annotator.corpora import (
    ManagementError,
    add_member,
    change_role,
    create_corpus,
    delete_choice,
    delete_target,
    remove_member,
    save_choice,
    save_target,
)
from annotator.manage_forms import ChoiceForm, TargetForm
from annotator.models import (
    Annotation,
    Article,
    Corpus,
    ImportJob,
    LabelChoice,
    Membership,
    Sentence,
    StanceTarget,
    count_of,
)
from annotator.tokens import revoke_token

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldGroups  # the stubs' type of get_fields()
    from django.contrib.auth.models import User
    from django_stubs_ext import WithAnnotations

    from annotator.models import ArticleQuerySet, CorpusQuerySet


class InspectionAdmin(admin.ModelAdmin):
    """Superusers see the rows; nobody adds, changes or deletes them here."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RuledAdmin(InspectionAdmin):
    """Superusers also add, change and delete, through the domain functions that hold the
    rules (each subclass's `save_model` and `delete_model`).

    A refusal (ManagementError) becomes an error message on the page it came from; the admin's
    own transaction is rolled back with it, so nothing is logged or half-written. There is no
    bulk delete: Django's would skip those functions.
    """

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_view_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_view_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ManagementError as refused:
            self.message_user(request, str(refused), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ManagementError as refused:
            self.message_user(request, str(refused), messages.ERROR)
            opts = self.opts
            change = f"admin:{opts.app_label}_{opts.model_name}_change"
            return HttpResponseRedirect(reverse(change, args=[object_id]))

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple:
        # Whether the row may go is the domain function's to say, on confirmation: Django's
        # collector would decide first, and list every annotation that protects a choice.
        return (
            [str(obj) for obj in objs],
            {model_ngettext(self.opts, len(objs)): len(objs)},
            set(),
            [],
        )


def _now_saved_as(obj: Any, saved: Any) -> None:
    """The admin logs and redirects to the object it built; point it at the row the domain
    function created instead."""
    obj.pk = saved.pk
    obj._state.adding = False


# ---------------------------------------------------------------------------------------------
# Corpora


class StanceTargetInline(admin.TabularInline):
    """The corpus's stance targets, for reading; they are edited on their own admin page."""

    model = models.StanceTarget
    fields = readonly_fields = ("name", "description", "order")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _CorpusCounts(TypedDict):  # what CorpusAdmin.get_queryset adds to with_counts()
    sentence_count: int
    member_count: int


@admin.register(Corpus)
class CorpusAdmin(RuledAdmin):
    list_display = [
        "name",
        "slug",
        "article_count",
        "sentence_count",
        "member_count",
        "progress",
        "created_at",
    ]
    search_fields = ["name", "slug", "description"]
    list_filter = ["stance_required", "created_at"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["schema_version", "created_at"]
    inlines = [StanceTargetInline]

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> list:
        return self.inlines if obj is not None else []  # a new corpus has no targets to show

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple:
        # No rule of ours decides this one: Django lists what deleting the corpus takes along
        # and refuses while articles (protected) remain.
        return admin.ModelAdmin.get_deleted_objects(self, objs, request)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Corpus]:
        # The admin's base queryset comes from Corpus.objects (untyped: ModelAdmin is generic
        # only in the stubs).
        return (
            cast("CorpusQuerySet", super().get_queryset(request))
            .with_counts()
            .annotate(
                sentence_count=count_of(Sentence.objects.filter(article__corpus=OuterRef("pk"))),
                member_count=count_of(Membership.objects.filter(corpus=OuterRef("pk"))),
            )
        )

    def save_model(self, request: HttpRequest, obj: Corpus, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # With the default schema and the superuser as its first manager, as the API does it.
        # The admin serves signed-in staff only.
        creator = cast("User", request.user)
        _now_saved_as(obj, create_corpus(creator=creator, **form.cleaned_data))

    @admin.display(description="articles", ordering="article_count")
    def article_count(self, corpus: Corpus) -> int:
        return corpus.article_count

    @admin.display(description="sentences", ordering="sentence_count")
    def sentence_count(self, corpus: WithAnnotations[Corpus, _CorpusCounts]) -> int:
        return corpus.sentence_count

    @admin.display(description="members", ordering="member_count")
    def member_count(self, corpus: WithAnnotations[Corpus, _CorpusCounts]) -> int:
        return corpus.member_count

    @admin.display(description="progress")
    def progress(self, corpus: Corpus) -> str:
        """Finished assignments out of articles x annotators per article."""
        progress = corpus.corpus_progress
        return f"{progress.percent}%" if progress.total else "–"


@admin.register(ImportJob)
class ImportJobAdmin(InspectionAdmin):
    list_display = ["file_name", "corpus", "status", "progress", "created_by", "created_at"]
    list_filter = ["status", "corpus"]
    list_select_related = ["corpus", "created_by"]
    search_fields = ["file_name", "error"]
    readonly_fields = [
        "corpus",
        "created_by",
        "file_name",
        "upload_bytes",
        "status",
        "attempts",
        "total",
        "processed",
        "summary",
        "error",
        "created_at",
        "finished_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs start from a corpus's Import page in the app

    @admin.display(description="progress")
    def progress(self, job: ImportJob) -> str:
        return f"{job.processed} / {job.total}"


# ---------------------------------------------------------------------------------------------
# Members and the label schema: through corpora.py, with the manage pages' own forms


@admin.register(Membership)
class MembershipAdmin(RuledAdmin):
    list_display = ["user", "corpus", "role", "created_at"]
    list_filter = ["corpus", "role"]
    list_select_related = ["user", "corpus"]
    search_fields = ["user__username", "user__email", "corpus__name"]
    autocomplete_fields = ["user"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> _FieldGroups:
        return (
            ["user", "corpus", "role"] if obj is None else ["user", "corpus", "role", "created_at"]
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A membership moves to no other user or corpus: remove it and add another.
        return [] if obj is None else ["user", "corpus", "created_at"]

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        if change:
            change_role(membership=obj, role=obj.role)
        else:
            _now_saved_as(obj, add_member(corpus=obj.corpus, user=obj.user, role=obj.role))

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        released = remove_member(membership=obj)
        if released:
            self.message_user(
                request, f"{released} article(s) in progress went back to the pool.", messages.INFO
            )


class LabelChoiceAdminForm(ChoiceForm):
    """The schema page's own form, so both check a choice alike (keys unique across layers and
    not reserved, values unique in the layer); the corpus and layer are chosen when a choice is
    added and fixed after."""

    class Meta(ChoiceForm.Meta):
        fields = ["corpus", "layer", *ChoiceForm.Meta.fields]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        instance: LabelChoice | None = kwargs.get("instance")
        stored = instance if instance is not None and instance.pk is not None else None
        super().__init__(
            *args,
            corpus=stored.corpus if stored else None,
            layer=stored.layer if stored else None,
            **kwargs,
        )

    # Fields clean in order, so the value and key checks below these see the chosen ones.
    def clean_corpus(self) -> Corpus:
        self.corpus = self.instance.corpus = self.cleaned_data["corpus"]
        return self.corpus

    def clean_layer(self) -> str:
        self.layer = self.instance.layer = self.cleaned_data["layer"]
        return self.layer


@admin.register(models.LabelChoice)
class LabelChoiceAdmin(RuledAdmin):
    form = LabelChoiceAdminForm
    list_display = ["name", "value", "layer", "key", "order", "numeric_code", "corpus"]
    list_filter = ["corpus", "layer"]
    list_select_related = ["corpus"]
    search_fields = ["name", "value"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> _FieldGroups:
        return ["corpus", "layer", "value", "name", "key", "numeric_code", "order"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Order changes with the schema page's up and down arrows.
        return ["order"] if obj is None else ["corpus", "layer", "order"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        save_choice(choice=obj)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        delete_choice(choice=obj)


class StanceTargetAdminForm(TargetForm):
    """The targets page's own form (names unique in the corpus, whatever their case)."""

    class Meta(TargetForm.Meta):
        fields = ["corpus", *TargetForm.Meta.fields]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        instance: StanceTarget | None = kwargs.get("instance")
        stored = instance if instance is not None and instance.pk is not None else None
        super().__init__(*args, corpus=stored.corpus if stored else None, **kwargs)

    def clean_corpus(self) -> Corpus:
        self.corpus = self.instance.corpus = self.cleaned_data["corpus"]
        return self.corpus


@admin.register(models.StanceTarget)
class StanceTargetAdmin(RuledAdmin):
    form = StanceTargetAdminForm
    list_display = ["name", "corpus", "order"]
    list_filter = ["corpus"]
    list_select_related = ["corpus"]
    search_fields = ["name", "description"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> _FieldGroups:
        return ["corpus", "name", "description", "order"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["order"] if obj is None else ["corpus", "order"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        save_target(target=obj)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        delete_target(target=obj)


# ---------------------------------------------------------------------------------------------
# Tokens: superusers list them and revoke them (a token made here could never be shown)


@admin.action(description="Revoke selected tokens")
def revoke_tokens(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[models.ApiToken]
) -> None:
    revoked = sum(revoke_token(token=token) for token in queryset)
    modeladmin.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)


@admin.register(models.ApiToken)
class ApiTokenAdmin(InspectionAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    exclude = ["key_hash"]
    actions = [revoke_tokens]


# ---------------------------------------------------------------------------------------------
# Read-only: what annotating, assigning, curating and importing wrote


class SentenceInline(admin.TabularInline):
    model = Sentence
    fields = readonly_fields = (
        "ordinal",
        "paragraph",
        "start",
        "end",
        "text",
        "zone",
        "zone_confirmed",
        "excluded",
    )
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _AnnotationCount(TypedDict):  # what ArticleAdmin and SentenceAdmin annotate
    annotation_count: int


@admin.register(Article)
class ArticleAdmin(InspectionAdmin):
    # The read-only page still builds the model's form; Django 6 makes https the default
    # scheme for URL fields, so take it now rather than warn.
    formfield_overrides = {URLField: {"assume_scheme": "https"}}
    list_display = [
        "external_id",
        "title",
        "corpus",
        "sentence_count",
        "annotation_count",
        "progress",
        "imported_at",
    ]
    list_filter = ["corpus", "segmenter_version", "imported_at"]
    list_select_related = ["corpus"]
    search_fields = ["external_id", "title", "url"]
    inlines = [SentenceInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Article]:
        queryset = cast("ArticleQuerySet", super().get_queryset(request))  # see CorpusAdmin
        match = request.resolver_match
        if match and match.url_name == "annotator_article_changelist":
            # A page of 100 full article texts is megabytes nobody sees in the list.
            queryset = queryset.defer("text")
        return queryset.with_counts().annotate(
            annotation_count=count_of(Annotation.objects.filter(sentence__article=OuterRef("pk")))
        )

    @admin.display(description="sentences", ordering="sentence_count")
    def sentence_count(self, article: Article) -> int:
        return article.sentence_count

    @admin.display(description="annotations", ordering="annotation_count")
    def annotation_count(self, article: WithAnnotations[Article, _AnnotationCount]) -> int:
        return article.annotation_count

    @admin.display(description="done", ordering="done_count")
    def progress(self, article: Article) -> str:
        return f"{article.done_count}/{article.corpus.annotators_per_article}"


@admin.register(Sentence)
class SentenceAdmin(InspectionAdmin):
    list_display = [
        "__str__",
        "article",
        "ordinal",
        "paragraph",
        "zone",
        "excluded",
        "annotation_count",
    ]
    list_filter = ["article__corpus", "zone", "zone_confirmed", "excluded"]
    list_select_related = ["article"]
    search_fields = ["text", "article__external_id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Sentence]:
        return (
            super()
            .get_queryset(request)
            .annotate(annotation_count=count_of(Annotation.objects.filter(sentence=OuterRef("pk"))))
        )

    @admin.display(description="annotations", ordering="annotation_count")
    def annotation_count(self, sentence: WithAnnotations[Sentence, _AnnotationCount]) -> int:
        return sentence.annotation_count


@admin.register(Annotation)
class AnnotationAdmin(InspectionAdmin):
    list_display = ["sentence", "annotator", "layer", "target", "choice", "updated_at"]
    list_filter = ["sentence__article__corpus", "layer", "updated_at"]
    list_select_related = ["sentence", "annotator", "target", "choice"]
    search_fields = ["annotator__username", "sentence__text"]


@admin.register(models.AnnotationHistory)
class AnnotationHistoryAdmin(InspectionAdmin):
    list_display = ["changed_at", "sentence", "annotator", "layer", "old_value", "new_value"]
    list_filter = ["sentence__article__corpus", "layer", "changed_at"]
    list_select_related = ["sentence", "annotator"]
    search_fields = ["annotator__username", "changed_by__username"]


@admin.register(models.SegmentationChange)
class SegmentationChangeAdmin(InspectionAdmin):
    """Corrections are made on the console's sentence and zone pages (resegmenting.py)."""

    list_display = ["changed_at", "article", "user", "action"]
    list_filter = ["action", "article__corpus"]
    list_select_related = ["article", "user"]


@admin.register(models.SentenceNote)
class SentenceNoteAdmin(InspectionAdmin):
    list_display = ["sentence", "annotator", "unsure", "note", "updated_at"]
    list_filter = ["unsure", "sentence__article__corpus"]
    list_select_related = ["sentence", "annotator"]
    search_fields = ["note", "annotator__username"]


@admin.register(models.Assignment)
class AssignmentAdmin(InspectionAdmin):
    list_display = ["article", "annotator", "status", "assigned_at", "finished_at"]
    list_filter = ["status", "article__corpus"]
    list_select_related = ["article", "annotator"]
    search_fields = ["annotator__username", "article__title", "article__external_id"]


@admin.register(models.GoldLabel)
class GoldLabelAdmin(InspectionAdmin):
    list_display = ["sentence", "layer", "target", "choice", "method", "confirmed", "decided_by"]
    list_filter = ["sentence__article__corpus", "layer", "method", "confirmed"]
    list_select_related = ["sentence", "target", "choice", "decided_by"]
    search_fields = ["sentence__text", "note"]


@admin.register(models.Release)
class ReleaseAdmin(InspectionAdmin):
    """Releases are cut on the corpus's Releases page, the API or `manage.py release`
    (releases/building.py); a ready release never changes."""

    list_display = ["corpus", "number", "status", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "corpus"]
    list_select_related = ["corpus", "created_by"]
    search_fields = ["note"]


@admin.register(models.ModelVersion)
class ModelVersionAdmin(InspectionAdmin):
    """Versions are trained from the statistics page, `manage.py train_model` or the retrain
    trigger, or come with imported predictions (assisting.py)."""

    list_display = ["corpus", "layer", "target", "kind", "name", "version", "status", "created_at"]
    list_filter = ["kind", "status", "layer", "corpus"]
    list_select_related = ["corpus", "target"]
    search_fields = ["name", "version"]
    exclude = ["model_bytes"]  # the fitted model: bytes, no use on a page

    def get_queryset(self, request: HttpRequest) -> QuerySet[models.ModelVersion]:
        # Excluding the field hides it from the form; deferring keeps it out of the query.
        return super().get_queryset(request).defer("model_bytes")


@admin.register(models.Prediction)
class PredictionAdmin(InspectionAdmin):
    list_display = ["sentence", "model_version", "layer", "target", "choice", "score"]
    list_filter = ["layer", "model_version__corpus"]
    list_select_related = ["sentence", "model_version", "target", "choice"]
    raw_id_fields = ["sentence", "model_version"]
    # One row per sentence and model version: counting them all on every page would cost more
    # than showing the page.
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[models.Prediction]:
        return super().get_queryset(request).defer("model_version__model_bytes")
