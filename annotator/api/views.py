"""API views: thin viewsets over scoped querysets; writes go through the domain modules.

Every `get_queryset()` starts from what `request.user` may see, so a non-member gets empty lists
and 404s; role checks inside a visible corpus answer 403 (see permissions.py).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from annotator.annotating import LabelError, LabellingRefused, save_label
from annotator.api import serializers as s
from annotator.api.errors import error_body
from annotator.api.filters import (
    AnnotationFilter,
    ArticleFilter,
    GoldLabelFilter,
    MembershipFilter,
    PredictionFilter,
    SentenceFilter,
)
from annotator.api.parsers import JSONParser
from annotator.api.permissions import (
    annotations_visible_to,
    can_create_corpora,
    corpus_ids_with_role,
    member_corpus,
    require_role,
    signed_in,
)
from annotator.assisting import PREDICTION_ROLES
from annotator.corpora import (
    ManagementError,
    add_member,
    change_role,
    create_corpus,
    remove_member,
)
from annotator.export_options import request_from_validated
from annotator.export_queries import dataset_card, export_response
from annotator.importing import ImportRejected, import_articles
from annotator.labels_import import LabelImportRejected, import_labels
from annotator.models import (
    Annotation,
    Article,
    Corpus,
    GoldLabel,
    LabelChoice,
    Layer,
    Membership,
    Prediction,
    Role,
    Sentence,
    StanceTarget,
)
from annotator.sources import SourceRejected
from annotator.uploads import MAX_UPLOAD_LINES


@csrf_exempt  # it changes nothing, and must answer JSON to any method
def api_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """JSON 404 for any /api/v1/ path no route matches (Django's own 404 page is HTML)."""
    return JsonResponse(error_body("not_found", "No API endpoint at this address."), status=404)


def reject_unknown_params(request: Request, allowed: set[str]) -> None:
    """Refuse query parameters the action does not know, and empty ones."""
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        hint = f"allowed: {', '.join(sorted(allowed)) or 'none'}"
        raise ValidationError({name: [f"Unknown query parameter ({hint})."] for name in unknown})
    # As for the list filters (filters.StrictFilterBackend): a parameter that is sent means
    # something, and DRF would otherwise treat an empty optional one as absent.
    empty = sorted(name for name, value in request.query_params.items() if value == "")
    if empty:
        raise ValidationError({name: ["Must not be empty."] for name in empty})


class JsonLinesRenderer(BaseRenderer):
    """Only for content negotiation and the schema: the export view streams its own body."""

    media_type = "application/x-ndjson"
    format = "jsonl"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return json.dumps(data).encode("utf-8")


class CsvRenderer(JsonLinesRenderer):
    media_type = "text/csv"
    format = "csv"


# --- Corpora --------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Corpora the caller belongs to, with the caller's role"),
    retrieve=extend_schema(summary="One corpus"),
    create=extend_schema(
        summary="Create a corpus (staff, or managers of another corpus)",
        request=s.CorpusInputSerializer,
        responses={201: s.CorpusSerializer},
    ),
    update=extend_schema(
        summary="Replace a corpus's settings (managers)",
        request=s.CorpusInputSerializer,
        responses=s.CorpusSerializer,
    ),
    partial_update=extend_schema(
        summary="Change some of a corpus's settings (managers)",
        request=s.CorpusInputSerializer,
        responses=s.CorpusSerializer,
    ),
)
class CorpusViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Corpus.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = s.CorpusSerializer
    lookup_field = "slug"
    lookup_value_regex = "[-a-zA-Z0-9_]+"

    def get_queryset(self) -> QuerySet[Corpus]:
        return Corpus.objects.for_user(self.request.user)  # with the caller's `role`

    def _corpus(self, slug: str) -> Corpus:
        # Actions validate their own query parameters, so they skip the list filter backend.
        return get_object_or_404(self.get_queryset(), slug=slug)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not can_create_corpora(request.user):
            raise PermissionDenied("Only staff and corpus managers may create corpora.")
        data = s.CorpusInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        corpus = create_corpus(creator=signed_in(request.user), **data.validated_data)
        corpus.role = Role.MANAGER
        return Response(s.CorpusSerializer(corpus).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        corpus = self.get_object()
        require_role(corpus, request.user, Role.MANAGERS)
        data = s.CorpusInputSerializer(
            corpus, data=request.data, partial=kwargs.get("partial", False)
        )
        data.is_valid(raise_exception=True)
        data.save()
        return Response(s.CorpusSerializer(self.get_object()).data)

    @extend_schema(summary="Label choices and stance targets", responses=s.SchemaSerializer)
    @action(detail=True, methods=["get"], url_path="schema", url_name="schema")
    def label_schema(self, request: Request, slug: str) -> Response:
        reject_unknown_params(request, set())
        corpus = self._corpus(slug)
        return Response(
            s.SchemaSerializer(
                {
                    "schema_version": corpus.schema_version,
                    "choices": corpus.choices.order_by("layer", "order", "id"),
                    "stance_targets": corpus.stance_targets.order_by("order", "id"),
                }
            ).data
        )

    @extend_schema(
        summary="Agreement figures per layer and stance target (managers and curators)",
        parameters=[s.AgreementQuerySerializer],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def agreement(self, request: Request, slug: str) -> Response:
        from annotator.statistics import corpus_statistics

        reject_unknown_params(request, {"level", "replicates"})
        corpus = self._corpus(slug)
        require_role(corpus, request.user, Role.REVIEWERS)
        query = s.AgreementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            corpus_statistics(
                corpus,
                level=query.validated_data.get("level"),
                replicates=query.validated_data["replicates"],
            )
        )

    @extend_schema(
        summary="Stream the dataset: one record per sentence (or per annotation with shape=long)",
        parameters=[s.ExportQuerySerializer],
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[JSONRenderer, JsonLinesRenderer, CsvRenderer],
    )
    def export(self, request: Request, slug: str) -> StreamingHttpResponse:
        reject_unknown_params(request, set(s.ExportQuerySerializer().fields))
        corpus = self._corpus(slug)
        require_role(corpus, request.user, Role.REVIEWERS)
        query = s.ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return export_response(corpus, request_from_validated(query.validated_data))

    @extend_schema(
        summary="Dataset card: fields, label names, counts and agreement per layer",
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"], url_path="export/card", url_name="export-card")
    def export_card(self, request: Request, slug: str) -> Response:
        reject_unknown_params(request, set())
        corpus = self._corpus(slug)
        require_role(corpus, request.user, Role.REVIEWERS)
        return Response(dataset_card(corpus))


# --- Members --------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Memberships of the corpora the caller manages"),
    retrieve=extend_schema(summary="One membership"),
    create=extend_schema(
        summary="Add a user to a corpus (managers)",
        request=s.MembershipInputSerializer,
        responses={201: s.MembershipSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a member's role (managers)",
        request=s.MembershipRoleInputSerializer,
        responses=s.MembershipSerializer,
    ),
    destroy=extend_schema(summary="Remove a member (managers; not the last manager)"),
)
class MembershipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    lookup_value_regex = "[0-9]+"
    queryset = Membership.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = s.MembershipSerializer
    filterset_class = MembershipFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Membership]:
        managed = corpus_ids_with_role(self.request.user, Role.MANAGERS)
        return Membership.objects.filter(corpus__in=managed).select_related("user", "corpus")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.MembershipInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        corpus = member_corpus(request.user, data.validated_data["corpus"], roles=Role.MANAGERS)
        try:
            membership = add_member(
                corpus=corpus,
                user=data.validated_data["username"],
                role=data.validated_data["role"],
            )
        except ManagementError as refused:
            raise _invalid(refused, default_field="username") from None
        return Response(s.MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = self.get_object()
        data = s.MembershipRoleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            change_role(membership=membership, role=data.validated_data["role"])
        except ManagementError as refused:
            raise _invalid(refused, default_field="role") from None
        return Response(s.MembershipSerializer(membership).data)

    def perform_destroy(self, instance: Membership) -> None:
        try:
            remove_member(membership=instance)
        except ManagementError as refused:
            raise _invalid(refused, default_field="role") from None


def _invalid(refused: ManagementError, *, default_field: str) -> ValidationError:
    """A refusal from corpora.py as a 400 naming the field it is about."""
    return ValidationError({refused.field or default_field: [str(refused)]})


# --- Articles and sentences ------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Articles with their progress"),
    retrieve=extend_schema(summary="One article with its text and sentences"),
    create=extend_schema(
        summary="Import articles (managers): one as JSON, or a .txt/.jsonl/.zip upload",
        request={
            "application/json": s.ArticleInputSerializer,
            "multipart/form-data": s.ArticleInputSerializer,
        },
        responses={201: s.ImportSummarySerializer, 200: s.ImportSummarySerializer},
    ),
)
class ArticleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    lookup_value_regex = "[0-9]+"
    queryset = Article.objects.none()  # for the schema; requests use get_queryset()
    filterset_class = ArticleFilter
    parser_classes = [JSONParser, MultiPartParser]

    def get_serializer_class(self) -> type:
        return s.ArticleDetailSerializer if self.action == "retrieve" else s.ArticleSerializer

    def get_queryset(self) -> QuerySet[Article]:
        return Article.objects.visible_to(self.request.user).select_related("corpus").with_counts()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.ArticleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        corpus = member_corpus(request.user, fields["corpus"], roles=Role.MANAGERS)
        started = timezone.now()
        with tempfile.TemporaryDirectory(prefix="api-import-") as folder:
            path = _write_import_source(Path(folder), fields)

            # Messages name the uploaded file as the client sent it, never the server's folder.
            def as_sent(text: object) -> str:
                return str(text).replace(f"{folder}/", "")

            try:
                summary = import_articles(corpus=corpus, sources=[path], workers=1)
            except ImportRejected as rejected:
                problems = [as_sent(problem) for problem in rejected.summary.rejected]
                raise ValidationError({"problems": problems}) from None
            except SourceRejected as rejected:
                raise ValidationError(
                    {"problems": [as_sent(p) for p in rejected.problems]}
                ) from None
            summary.skipped_names = [as_sent(name) for name in summary.skipped_names]
        created = list(
            corpus.articles.filter(imported_at__gte=started)
            .order_by("id")
            .values_list("id", flat=True)
        )
        body = {
            "imported": summary.imported,
            "sentences": summary.sentences,
            "skipped": summary.skipped,
            "skipped_names": summary.skipped_names,
            "articles": created,
        }
        code = status.HTTP_201_CREATED if summary.imported else status.HTTP_200_OK
        return Response(s.ImportSummarySerializer(body).data, status=code)


def _write_import_source(folder: Path, fields: dict[str, Any]) -> Path:
    """The request body as a file the importer reads, so API imports get the same checks."""
    upload = fields.get("file")
    if upload is not None:
        if upload.size > settings.IMPORT_MAX_TOTAL_BYTES:
            raise ValidationError(
                {"file": [f"Larger than {settings.IMPORT_MAX_TOTAL_BYTES} bytes."]}
            )
        name = Path(upload.name or "").name or "upload"
        path = folder / name
        with path.open("wb") as out:
            for piece in upload.chunks():
                out.write(piece)
        return path
    record = {
        "id": fields["external_id"],
        "text": fields["text"],
        "title": fields.get("title", ""),
        "url": fields.get("url", ""),
        "metadata": fields.get("metadata", {}),
    }
    path = folder / "request.jsonl"
    # ASCII escapes: a lone surrogate in the metadata reaches the importer, which rejects it
    # with a reason, instead of failing to encode here.
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


@extend_schema_view(
    list=extend_schema(summary="Sentences of the articles the caller can see"),
    retrieve=extend_schema(summary="One sentence"),
)
class SentenceViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = "[0-9]+"
    queryset = Sentence.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = s.SentenceSerializer
    filterset_class = SentenceFilter

    def get_queryset(self) -> QuerySet[Sentence]:
        return Sentence.objects.visible_to(self.request.user)


# --- Annotations and gold ---------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Annotations: annotators see their own, reviewers everyone's"),
    retrieve=extend_schema(summary="One annotation"),
    create=extend_schema(
        summary="Set the caller's label for a sentence, layer and target (idempotent upsert)",
        request=s.AnnotationInputSerializer,
        responses={201: s.AnnotationSerializer, 200: s.AnnotationSerializer},
    ),
    destroy=extend_schema(summary="Remove one of the caller's own labels"),
)
class AnnotationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    lookup_value_regex = "[0-9]+"
    queryset = Annotation.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = s.AnnotationSerializer
    filterset_class = AnnotationFilter

    def get_queryset(self) -> QuerySet[Annotation]:
        return Annotation.objects.filter(annotations_visible_to(self.request.user)).select_related(
            "sentence", "annotator", "choice", "suggested_choice"
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.AnnotationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        sentence = get_object_or_404(
            Sentence.objects.visible_to(request.user).select_related("article__corpus"),
            pk=fields["sentence"],
        )
        corpus = sentence.article.corpus
        target, choice = _resolve_label(
            corpus, fields["layer"], fields.get("target"), fields["label"]
        )
        annotator = signed_in(request.user)
        existed = Annotation.objects.filter(
            sentence=sentence, annotator=annotator, layer=fields["layer"], target=target
        ).exists()
        try:
            annotation = save_label(
                sentence=sentence,
                annotator=annotator,
                layer=fields["layer"],
                target=target,
                choice=choice,
                seconds=fields["seconds"],
            )
        except LabellingRefused as refused:
            raise PermissionDenied(str(refused)) from None
        except LabelError as error:
            raise ValidationError({"label": [str(error)]}) from None
        # Answered from what the save returned, not read back: once stored, the answer is
        # success even if the connection is lost now.
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(
            s.AnnotationSerializer(annotation, context={"request": request}).data, status=code
        )

    def perform_destroy(self, instance: Annotation) -> None:
        if instance.annotator_id != self.request.user.pk:
            raise PermissionDenied("Only the annotator who made a label may remove it.")
        sentence = Sentence.objects.select_related("article").get(pk=instance.sentence_id)
        try:
            save_label(
                sentence=sentence,
                annotator=self.request.user,
                layer=instance.layer,
                target=instance.target,
                choice=None,
            )
        except LabellingRefused as refused:
            raise PermissionDenied(str(refused)) from None

    @extend_schema(
        summary="Bulk import labels from another tool (JSONL); all lines or none",
        description=(
            "Each line: {external_id, sentence_index, layer, target (stance target name), label, "
            "annotator (managers only), seconds}. Any bad line makes a 400 listing every bad "
            "line as `fields['line N']`, and nothing is written."
        ),
        request={"multipart/form-data": s.AnnotationImportInputSerializer},
        responses={200: s.AnnotationImportResultSerializer},
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_labels(self, request: Request) -> Response:
        data = s.AnnotationImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        corpus = member_corpus(request.user, data.validated_data["corpus"])
        upload = data.validated_data["file"]
        result = import_label_lines(corpus=corpus, caller=request.user, data=_read_upload(upload))
        return Response(s.AnnotationImportResultSerializer(result).data)


def _read_upload(upload: Any) -> bytes:
    """An uploaded file's bytes, refused (400, naming the field) above the import size limit."""
    if upload.size > settings.IMPORT_MAX_FILE_BYTES:
        raise ValidationError({"file": [f"Larger than {settings.IMPORT_MAX_FILE_BYTES} bytes."]})
    return upload.read()


def _resolve_label(
    corpus: Corpus, layer: str, target_id: int | None, value: str
) -> tuple[StanceTarget | None, LabelChoice]:
    target = None
    if layer == Layer.STANCE:
        if target_id is None:
            raise ValidationError({"target": ["A stance label needs a stance target id."]})
        target = StanceTarget.objects.filter(corpus=corpus, pk=target_id).first()
        if target is None:
            raise ValidationError({"target": ["Not a stance target of this corpus."]})
    elif target_id is not None:
        raise ValidationError({"target": ["A claim type has no stance target."]})
    choice = LabelChoice.objects.filter(corpus=corpus, layer=layer, value=value).first()
    if choice is None:
        raise ValidationError({"label": [f"{value!r} is not a {layer} label of this corpus."]})
    return target, choice


def import_label_lines(*, corpus: Corpus, caller: Any, data: bytes) -> dict[str, int]:
    """Validate every line, then write all labels in one transaction (or raise, writing none)."""
    try:
        return import_labels(corpus=corpus, caller=caller, data=data, max_lines=MAX_UPLOAD_LINES)
    except LabelImportRejected as rejected:
        raise ValidationError(rejected.errors) from None


@extend_schema_view(
    list=extend_schema(summary="Gold labels (managers and curators)"),
    retrieve=extend_schema(summary="One gold label"),
)
class GoldLabelViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = "[0-9]+"
    queryset = GoldLabel.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = s.GoldLabelSerializer
    filterset_class = GoldLabelFilter

    def get_queryset(self) -> QuerySet[GoldLabel]:
        reviewed = corpus_ids_with_role(self.request.user, Role.REVIEWERS)
        return GoldLabel.objects.filter(sentence__article__corpus__in=reviewed).select_related(
            "sentence", "choice", "decided_by"
        )


# --- Predictions (model assistance) -----------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Predictions of models (managers and curators)"),
    retrieve=extend_schema(summary="One prediction"),
    create=extend_schema(
        summary="Store external predictions (managers and curators); all or none",
        description=(
            "Body: {corpus, predictions: [record, ...]}. Each record names its sentence by "
            "`sentence` (id) or by `article` (external id) and `sentence_index` (from 0), and "
            "gives layer, target (stance target slug, stance only), label, score (0 to 1), "
            "optional probabilities {label: p}, model and model_version. A record for a "
            "sentence that already has a prediction of that model version replaces it. Any bad "
            "record makes a 400 naming each one as `fields['predictions[i]']` (from 0) with "
            "'field: reason' messages, and nothing is stored."
        ),
        request=s.PredictionBatchInputSerializer,
        responses={201: s.PredictionImportResultSerializer},
    ),
)
class PredictionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    lookup_value_regex = "[0-9]+"
    queryset = Prediction.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = s.PredictionSerializer
    filterset_class = PredictionFilter

    def get_queryset(self) -> QuerySet[Prediction]:
        reviewed = corpus_ids_with_role(self.request.user, PREDICTION_ROLES)
        return Prediction.objects.filter(model_version__corpus__in=reviewed).select_related(
            "sentence", "model_version", "target", "choice"
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        from annotator.assisting import PredictionRecord

        data = s.PredictionBatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        corpus = member_corpus(request.user, data.validated_data["corpus"], roles=PREDICTION_ROLES)
        records = [
            PredictionRecord(data=record, line=number, source="predictions")
            for number, record in enumerate(data.validated_data["predictions"])
        ]
        result = _import_predictions(
            corpus, records, by=request.user, key=lambda p: f"predictions[{p.line}]"
        )
        return Response(
            s.PredictionImportResultSerializer(result).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Bulk import external predictions from a JSONL file; all lines or none",
        description=(
            "One prediction record per line (see POST /predictions/). Any bad line makes a 400 "
            "listing every bad line as `fields['line N']` with 'field: reason' messages, and "
            "nothing is stored."
        ),
        request={"multipart/form-data": s.PredictionImportInputSerializer},
        responses={200: s.PredictionImportResultSerializer},
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_file(self, request: Request) -> Response:
        from annotator.assisting import read_jsonl

        data = s.PredictionImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        corpus = member_corpus(request.user, data.validated_data["corpus"], roles=PREDICTION_ROLES)
        upload = data.validated_data["file"]
        lines = _read_upload(upload).splitlines()
        records = read_jsonl(lines, source=upload.name or "upload", max_lines=MAX_UPLOAD_LINES)
        result = _import_predictions(
            corpus, records, by=request.user, key=lambda p: f"line {p.line}"
        )
        return Response(s.PredictionImportResultSerializer(result).data)


def _import_predictions(corpus: Corpus, records: Any, *, by: Any, key: Any) -> dict[str, Any]:
    from annotator.assisting import AssistanceRefused, PredictionsRejected, import_predictions

    try:
        return import_predictions(corpus=corpus, records=records, by=by).to_dict()
    except AssistanceRefused as refused:
        raise PermissionDenied(str(refused)) from None
    except PredictionsRejected as rejected:
        errors: dict[str, list[str]] = {}
        for problem in rejected.problems:
            errors.setdefault(key(problem), []).append(f"{problem.field}: {problem.reason}")
        raise ValidationError(errors) from None
