"""The Django admin: every model with useful columns, filters and search, and the import pages.

Counts (sentences, annotations, progress) are correlated subqueries annotated on the changelist
query, so a page costs the same number of queries whatever it shows. Superusers see everything;
staff who manage a corpus see that corpus's rows and can import articles into it; they edit its
settings, stance targets, label choices and memberships, while labels, history, notes and gold
stay read-only for them.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.files.base import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Func, IntegerField, OuterRef, QuerySet, Subquery, URLField
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from annotator import models
from annotator.api.admin import ApiTokenAdmin
from annotator.models import (
    Annotation,
    Article,
    Assignment,
    AssignmentStatus,
    Corpus,
    ImportJob,
    ImportStatus,
    Role,
    Sentence,
)
from annotator.tasks import import_upload

UPLOAD_SUFFIXES = (".txt", ".jsonl", ".zip")


def count_of(queryset: QuerySet) -> Subquery:
    """COUNT(*) of a correlated queryset, as one subquery instead of a join that multiplies rows."""
    counted = queryset.order_by().values(
        n=Func(F("pk"), function="COUNT", output_field=IntegerField())
    )
    return Subquery(counted, output_field=IntegerField())


def managed_corpora(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Corpus]:
    return Corpus.objects.with_role(user, (Role.MANAGER,))


def can_manage(request: HttpRequest, corpus: Corpus) -> bool:
    return request.user.is_superuser or managed_corpora(request.user).filter(pk=corpus.pk).exists()


def _manages_any(request: HttpRequest) -> bool:
    # Asked once per model on the admin index; remember the answer for the request.
    if not hasattr(request, "_manages_any_corpus"):
        request._manages_any_corpus = managed_corpora(request.user).exists()
    return request._manages_any_corpus


# Filters list only the corpora of the rows the user may see, never every corpus's name.
ScopedCorpusFilter = admin.RelatedOnlyFieldListFilter


class ManagerScopedAdmin(admin.ModelAdmin):
    """Superusers see all rows; staff managers see their corpora's rows, read-only."""

    corpus_lookup = "corpus"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.corpus_lookup}__in": managed_corpora(request.user)})

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) or _manages_any(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) or _manages_any(request)


class ManagerEditableAdmin(ManagerScopedAdmin):
    """Staff managers also add, change and delete their corpora's rows.

    Objects reach the change and delete views through `get_queryset`, which is already scoped,
    and the corpus dropdown offers only managed corpora, so a row never moves to another corpus.
    """

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) or _manages_any(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) or _manages_any(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) or _manages_any(request)

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if db_field.name == "corpus" and not request.user.is_superuser:
            kwargs["queryset"] = managed_corpora(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SchemaAdmin(ManagerEditableAdmin):
    """Label choices and stance targets: a bulk delete bumps the schema version as a single
    delete does (QuerySet.delete skips the model's delete)."""

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        corpora = list(Corpus.objects.filter(pk__in=queryset.values("corpus")))
        with transaction.atomic():
            super().delete_queryset(request, queryset)
            for corpus in corpora:
                corpus.bump_schema_version()


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class ImportUploadForm(forms.Form):
    files = MultipleFileField(
        help_text="One .zip archive, or one or more .txt and .jsonl files.",
    )

    def clean_files(self) -> list[UploadedFile]:
        files = self.cleaned_data["files"]
        for upload in files:
            if PurePath(upload.name).suffix.lower() not in UPLOAD_SUFFIXES:
                raise forms.ValidationError(
                    f"{upload.name}: unsupported file type (expected .txt, .jsonl or .zip)."
                )
        if len(files) > 1 and any(upload.name.lower().endswith(".zip") for upload in files):
            raise forms.ValidationError("Upload a .zip archive on its own.")
        total = sum(upload.size for upload in files)
        if total > settings.IMPORT_MAX_TOTAL_BYTES:
            raise forms.ValidationError(
                f"The upload is {total:,} bytes, over the "
                f"{settings.IMPORT_MAX_TOTAL_BYTES:,}-byte limit; split it into smaller batches."
            )
        return files


@contextmanager
def _bundled(files: list[UploadedFile]) -> Iterator[tuple[str, File]]:
    """The upload as one file for the job: itself, or several files stored in a zip."""
    if len(files) == 1:
        yield files[0].name, files[0]
        return
    # A temporary file, not memory: the upload may be as big as IMPORT_MAX_TOTAL_BYTES.
    with tempfile.TemporaryFile() as bundle:
        with zipfile.ZipFile(bundle, "w", compression=zipfile.ZIP_STORED) as archive:
            for upload in files:
                with archive.open(PurePath(upload.name).name, "w") as member:
                    for chunk in upload.chunks():
                        member.write(chunk)
        bundle.seek(0)
        yield f"{len(files)} files.zip", File(bundle)


class StanceTargetInline(admin.TabularInline):
    """Editable by the corpus's managers: the parent corpus was reached through the scoped
    CorpusAdmin queryset. Deleting a target in use shows Django's protected-objects error."""

    model = models.StanceTarget
    extra = 0

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) or _manages_any(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_add_permission(request, obj) or _manages_any(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) or _manages_any(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) or _manages_any(request)


@admin.register(Corpus)
class CorpusAdmin(ManagerScopedAdmin):
    corpus_lookup = "pk"
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

    # Managers change their corpora; creating and deleting corpora stays with superusers.
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) or _manages_any(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if request.user.is_superuser:
            return self.readonly_fields
        # The slug is in every URL and export path of the corpus.
        return [*self.readonly_fields, "slug"]

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict:
        return self.prepopulated_fields if request.user.is_superuser else {}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Corpus]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                article_count=count_of(Article.objects.filter(corpus=OuterRef("pk"))),
                sentence_count=count_of(Sentence.objects.filter(article__corpus=OuterRef("pk"))),
                member_count=count_of(models.Membership.objects.filter(corpus=OuterRef("pk"))),
                done_count=count_of(
                    Assignment.objects.filter(
                        article__corpus=OuterRef("pk"), status=AssignmentStatus.DONE
                    )
                ),
            )
        )

    @admin.display(description="articles", ordering="article_count")
    def article_count(self, corpus: Corpus) -> int:
        return corpus.article_count

    @admin.display(description="sentences", ordering="sentence_count")
    def sentence_count(self, corpus: Corpus) -> int:
        return corpus.sentence_count

    @admin.display(description="members", ordering="member_count")
    def member_count(self, corpus: Corpus) -> int:
        return corpus.member_count

    @admin.display(description="progress")
    def progress(self, corpus: Corpus) -> str:
        """Finished assignments out of articles x annotators per article."""
        needed = corpus.article_count * corpus.annotators_per_article
        if not needed:
            return "–"
        return f"{min(corpus.done_count, needed) / needed:.0%}"

    def get_urls(self) -> list:
        return [
            path(
                "<int:object_id>/import/",
                self.admin_site.admin_view(self.import_view),
                name="annotator_corpus_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Upload files or a zip; a background task imports them while the job page polls."""
        corpus = get_object_or_404(Corpus, pk=object_id)
        # Non-managers learn nothing, not even that the corpus exists.
        if not can_manage(request, corpus):
            raise Http404
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            with _bundled(form.cleaned_data["files"]) as (name, content):
                job = ImportJob(corpus=corpus, created_by=request.user, file_name=name)
                job.upload.save(name, content, save=True)
            import_upload.enqueue(job.pk)
            return HttpResponseRedirect(
                reverse("admin:annotator_importjob_progress", args=[job.pk])
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "corpus": corpus,
            "form": form,
            "title": f"Import articles into {corpus}",
            "limits": {
                "file": settings.IMPORT_MAX_FILE_BYTES,
                "total": settings.IMPORT_MAX_TOTAL_BYTES,
                "members": settings.IMPORT_MAX_ZIP_MEMBERS,
            },
            "recent_jobs": corpus.import_jobs.select_related("created_by")[:10],
        }
        return TemplateResponse(request, "admin/annotator/corpus/import.html", context)


class SentenceInline(admin.TabularInline):
    model = Sentence
    fields = ["ordinal", "paragraph", "start", "end", "text"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Article)
class ArticleAdmin(ManagerScopedAdmin):
    # Django 6 makes https the default scheme for typed-in URLs; take it now.
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
    list_filter = [("corpus", ScopedCorpusFilter), "segmenter_version", "imported_at"]
    list_select_related = ["corpus"]
    search_fields = ["external_id", "title", "url"]
    readonly_fields = ["content_hash", "segmenter_version", "imported_at"]
    inlines = [SentenceInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Article]:
        queryset = super().get_queryset(request)
        match = request.resolver_match
        if match and match.url_name == "annotator_article_changelist":
            # A page of 100 full article texts is megabytes nobody sees in the list.
            queryset = queryset.defer("text")
        return queryset.annotate(
            sentence_count=count_of(Sentence.objects.filter(article=OuterRef("pk"))),
            annotation_count=count_of(Annotation.objects.filter(sentence__article=OuterRef("pk"))),
            done_count=count_of(
                Assignment.objects.filter(article=OuterRef("pk"), status=AssignmentStatus.DONE)
            ),
        )

    @admin.display(description="sentences", ordering="sentence_count")
    def sentence_count(self, article: Article) -> int:
        return article.sentence_count

    @admin.display(description="annotations", ordering="annotation_count")
    def annotation_count(self, article: Article) -> int:
        return article.annotation_count

    @admin.display(description="done", ordering="done_count")
    def progress(self, article: Article) -> str:
        return f"{article.done_count}/{article.corpus.annotators_per_article}"


@admin.register(Sentence)
class SentenceAdmin(ManagerScopedAdmin):
    corpus_lookup = "article__corpus"
    list_display = ["__str__", "article", "ordinal", "paragraph", "annotation_count"]
    list_filter = [("article__corpus", ScopedCorpusFilter)]
    list_select_related = ["article"]
    search_fields = ["text", "article__external_id"]
    raw_id_fields = ["article"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Sentence]:
        return (
            super()
            .get_queryset(request)
            .annotate(annotation_count=count_of(Annotation.objects.filter(sentence=OuterRef("pk"))))
        )

    @admin.display(description="annotations", ordering="annotation_count")
    def annotation_count(self, sentence: Sentence) -> int:
        return sentence.annotation_count


@admin.register(models.StanceTarget)
class StanceTargetAdmin(SchemaAdmin):
    list_display = ["name", "corpus", "order"]
    list_filter = [("corpus", ScopedCorpusFilter)]
    list_select_related = ["corpus"]
    search_fields = ["name", "description"]


@admin.register(models.LabelChoice)
class LabelChoiceAdmin(SchemaAdmin):
    list_display = ["name", "value", "layer", "key", "order", "numeric_code", "corpus"]
    list_filter = [("corpus", ScopedCorpusFilter), "layer"]
    list_select_related = ["corpus"]
    search_fields = ["name", "value"]


class MembershipAdminForm(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        membership = self.instance
        if (
            membership.pk is not None
            and cleaned.get("role", Role.MANAGER) != Role.MANAGER
            and is_last_manager(membership)
        ):
            raise forms.ValidationError(
                f"{membership.user} is the last manager of {membership.corpus}; make someone "
                "else a manager first."
            )
        return cleaned


def is_last_manager(membership: models.Membership) -> bool:
    stored = models.Membership.objects.filter(pk=membership.pk).values_list("role", flat=True)
    return (
        stored.first() == Role.MANAGER
        and not models.Membership.objects.filter(corpus_id=membership.corpus_id, role=Role.MANAGER)
        .exclude(pk=membership.pk)
        .exists()
    )


@admin.register(models.Membership)
class MembershipAdmin(ManagerEditableAdmin):
    form = MembershipAdminForm
    list_display = ["user", "corpus", "role", "created_at"]
    list_filter = [("corpus", ScopedCorpusFilter), "role"]
    list_select_related = ["user", "corpus"]
    search_fields = ["user__username", "user__email", "corpus__name"]
    autocomplete_fields = ["user"]

    def get_autocomplete_fields(self, request: HttpRequest) -> list[str]:
        # User autocomplete needs view permission on all users; managers type a username.
        return self.autocomplete_fields if request.user.is_superuser else []

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if db_field.name == "user" and not request.user.is_superuser:
            # A username box rather than a dropdown of every account on the site.
            return forms.ModelChoiceField(
                queryset=get_user_model().objects.all(),
                to_field_name=get_user_model().USERNAME_FIELD,
                widget=forms.TextInput,
                label="Username",
                help_text="The username of an existing account.",
                error_messages={"invalid_choice": "There is no account with that username."},
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is not None and not request.user.is_superuser:
            return ["user", "corpus"]
        return list(self.readonly_fields)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple:
        """Deleting the last manager of a corpus is listed as protected, so Django refuses it
        (single delete and the bulk action alike) instead of leaving a corpus nobody manages."""
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        chosen = {membership.pk for membership in objs}
        for membership in objs:
            others = models.Membership.objects.filter(
                corpus_id=membership.corpus_id, role=Role.MANAGER
            ).exclude(pk__in=chosen)
            if membership.role == Role.MANAGER and not others.exists():
                protected = [
                    *protected,
                    f"{membership.user} is the last manager of {membership.corpus}",
                ]
        return to_delete, model_count, perms_needed, protected


@admin.register(Annotation)
class AnnotationAdmin(ManagerScopedAdmin):
    corpus_lookup = "sentence__article__corpus"
    list_display = ["sentence", "annotator", "layer", "target", "choice", "updated_at"]
    list_filter = [("sentence__article__corpus", ScopedCorpusFilter), "layer", "updated_at"]
    list_select_related = ["sentence", "annotator", "target", "choice"]
    search_fields = ["annotator__username", "sentence__text"]
    raw_id_fields = ["sentence"]


@admin.register(models.AnnotationHistory)
class AnnotationHistoryAdmin(ManagerScopedAdmin):
    corpus_lookup = "sentence__article__corpus"
    list_display = ["changed_at", "sentence", "annotator", "layer", "old_value", "new_value"]
    list_filter = [("sentence__article__corpus", ScopedCorpusFilter), "layer", "changed_at"]
    list_select_related = ["sentence", "annotator"]
    search_fields = ["annotator__username", "changed_by__username"]

    # Append-only: the admin shows history and never edits it.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.SentenceNote)
class SentenceNoteAdmin(ManagerScopedAdmin):
    corpus_lookup = "sentence__article__corpus"
    list_display = ["sentence", "annotator", "unsure", "note", "updated_at"]
    list_filter = ["unsure", ("sentence__article__corpus", ScopedCorpusFilter)]
    list_select_related = ["sentence", "annotator"]
    search_fields = ["note", "annotator__username"]
    raw_id_fields = ["sentence"]


@admin.register(Assignment)
class AssignmentAdmin(ManagerScopedAdmin):
    corpus_lookup = "article__corpus"
    list_display = ["article", "annotator", "status", "assigned_at", "finished_at"]
    list_filter = ["status", ("article__corpus", ScopedCorpusFilter)]
    list_select_related = ["article", "annotator"]
    search_fields = ["annotator__username", "article__title", "article__external_id"]
    raw_id_fields = ["article"]


@admin.register(models.GoldLabel)
class GoldLabelAdmin(ManagerScopedAdmin):
    corpus_lookup = "sentence__article__corpus"
    list_display = ["sentence", "layer", "target", "choice", "method", "confirmed", "decided_by"]
    list_filter = [
        ("sentence__article__corpus", ScopedCorpusFilter),
        "layer",
        "method",
        "confirmed",
    ]
    list_select_related = ["sentence", "target", "choice", "decided_by"]
    search_fields = ["sentence__text", "note"]
    raw_id_fields = ["sentence"]


@admin.register(ImportJob)
class ImportJobAdmin(ManagerScopedAdmin):
    list_display = ["file_name", "corpus", "status", "progress", "created_by", "created_at"]
    list_filter = ["status", ("corpus", ScopedCorpusFilter)]
    list_select_related = ["corpus", "created_by"]
    search_fields = ["file_name", "error"]
    readonly_fields = [
        "corpus",
        "created_by",
        "file_name",
        "upload",
        "status",
        "total",
        "processed",
        "summary",
        "error",
        "created_at",
        "finished_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs start from a corpus's "Import articles" page

    @admin.display(description="progress")
    def progress(self, job: ImportJob) -> str:
        url = reverse("admin:annotator_importjob_progress", args=[job.pk])
        return format_html('<a href="{}">{} / {}</a>', url, job.processed, job.total)

    def get_urls(self) -> list:
        return [
            path(
                "<int:object_id>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="annotator_importjob_progress",
            ),
            *super().get_urls(),
        ]

    def progress_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The job's progress; htmx re-fetches the fragment every second until it finishes."""
        job = get_object_or_404(ImportJob.objects.select_related("corpus"), pk=object_id)
        if not can_manage(request, job.corpus):
            raise Http404
        context = {
            "job": job,
            "finished": job.status in (ImportStatus.DONE, ImportStatus.FAILED),
            "percent": round(100 * job.processed / job.total) if job.total else 0,
        }
        if request.headers.get("HX-Request"):
            return render(request, "admin/annotator/importjob/_progress.html", context)
        context |= {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Import of {job.file_name}",
        }
        return TemplateResponse(request, "admin/annotator/importjob/progress.html", context)


# Tokens: staff list and revoke them; nobody can add one here (it could never be shown).
admin.site.register(models.ApiToken, ApiTokenAdmin)
