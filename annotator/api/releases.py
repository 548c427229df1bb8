"""Dataset releases in the API: list, cut, read, download a file, and diff two releases.

Routes sit under a corpus (`/api/v1/corpora/{slug}/releases/...`). Members who are not managers
or curators get 403 and non-members 404, as for the export; cutting needs the manager role, which
`releases.catalog.cut_release` checks. Files stream from the release storage unchanged.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from annotator.api.permissions import require_role, signed_in
from annotator.api.serializers import StrictBooleanField, StrictCharField, StrictFloatField
from annotator.api.views import reject_unknown_params
from annotator.models import Corpus, RecordInclusion, Release, ReleaseStatus, Role
from annotator.releases.catalog import (
    ReleaseError,
    ReleaseOptions,
    content_type,
    cut_release,
    default_options,
    open_file,
    release_diff,
)
from annotator.releases.diff import DEFAULT_LIMIT

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MAX_DIFF_LIMIT = 100_000


class FileRenderer(BaseRenderer):
    """Only for content negotiation and the schema: file downloads stream the stored bytes."""

    media_type = "application/octet-stream"
    format = "file"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return b""


class ProportionsSerializer(serializers.Serializer):
    train = StrictFloatField(min_value=0, max_value=1)
    validation = StrictFloatField(min_value=0, max_value=1)
    test = StrictFloatField(min_value=0, max_value=1)


class ReleaseInputSerializer(serializers.Serializer):
    """Options of a new release; anything left out is taken from the corpus's last release."""

    note = StrictCharField(required=False, allow_blank=True, max_length=10_000)
    include = serializers.ChoiceField(
        choices=RecordInclusion.choices,
        required=False,
        help_text="Which sentences become records (default gold_or_majority).",
    )
    # The serializer metaclass moves declared fields into _declared_fields, so this does not
    # replace Field.context at runtime; djangorestframework-stubs sees a class attribute clash.
    context = StrictBooleanField(required=False, help_text="Add previous_text and next_text.")  # type: ignore[assignment]
    anonymize = StrictBooleanField(required=False, help_text="Pseudonymise annotators.")
    seed = StrictCharField(required=False, max_length=100, help_text="Split seed.")
    proportions = ProportionsSerializer(required=False, help_text="Shares of the splits.")
    license = StrictCharField(required=False, max_length=100, help_text="e.g. cc-by-4.0.")


class ReleaseFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    bytes = serializers.IntegerField()
    rows = serializers.IntegerField()
    sha256 = serializers.CharField()
    url = serializers.CharField()


class ReleaseSerializer(serializers.ModelSerializer):
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    proportions = serializers.DictField(child=serializers.FloatField(), read_only=True)
    files = serializers.SerializerMethodField()
    units = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = [
            "number",
            "status",
            "note",
            "created_by",
            "created_at",
            "snapshot_at",
            "finished_at",
            "include",
            "context",
            "anonymize",
            "seed",
            "proportions",
            "license",
            "schema_version",
            "segmenter_versions",
            "units",
            "counts",
            "agreement",
            "files",
            "error",
        ]
        read_only_fields = fields

    def get_files(self, release: Release) -> list[dict[str, Any]]:
        return [
            {
                **{key: entry[key] for key in ("name", "bytes", "rows", "sha256")},
                "url": reverse(
                    "release-file",
                    kwargs={
                        "slug": release.corpus.slug,
                        "number": release.number,
                        "name": entry["name"],
                    },
                ),
            }
            for entry in release.files
        ]

    def get_units(self, release: Release) -> list[dict[str, Any]]:
        return release.schema.get("units", [])


class DiffQuerySerializer(serializers.Serializer):
    from_ = serializers.IntegerField(min_value=1, help_text="The earlier release's number.")
    limit = serializers.IntegerField(
        min_value=0,
        max_value=MAX_DIFF_LIMIT,
        default=DEFAULT_LIMIT,
        help_text="Entries per list (counts are always complete).",
    )

    def to_internal_value(self, data: Any) -> Any:
        data = {("from_" if key == "from" else key): value for key, value in data.items()}
        return super().to_internal_value(data)


@extend_schema_view(
    list=extend_schema(summary="Releases of a corpus, newest first (managers and curators)"),
    retrieve=extend_schema(summary="One release with its files, counts and agreement"),
    create=extend_schema(
        summary="Cut a release (managers): numbered now, built by the background worker",
        request=ReleaseInputSerializer,
        responses={202: ReleaseSerializer},
    ),
)
class ReleaseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Release.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = ReleaseSerializer
    lookup_field = "number"
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []

    def corpus(self) -> Corpus:
        """The corpus of the URL: 404 for non-members, 403 below curator (looked up once)."""
        if not hasattr(self, "_corpus"):
            corpus = get_object_or_404(
                Corpus.objects.for_user(self.request.user), slug=self.kwargs["slug"]
            )
            require_role(corpus, self.request.user, Role.REVIEWERS)
            self._corpus = corpus
        return self._corpus

    def get_queryset(self) -> QuerySet[Release]:
        if getattr(self, "swagger_fake_view", False):
            return Release.objects.none()
        return Release.objects.filter(corpus=self.corpus()).select_related("corpus", "created_by")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.corpus()  # 404 / 403 before any word about the parameters
        reject_unknown_params(request, {"cursor", "page_size"})
        return super().list(request, *args, **kwargs)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.corpus()
        reject_unknown_params(request, set())
        return super().retrieve(request, *args, **kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        corpus = self.corpus()
        require_role(corpus, request.user, Role.MANAGERS)
        data = ReleaseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        defaults = default_options(corpus)
        options = ReleaseOptions(
            note=given.get("note", ""),
            include=given.get("include", defaults.include),
            context=given.get("context", defaults.context),
            anonymize=given.get("anonymize", defaults.anonymize),
            seed=given.get("seed", defaults.seed),
            proportions=dict(given.get("proportions", defaults.proportions)),
            license=given.get("license", defaults.license),
        )
        try:
            release = cut_release(corpus=corpus, options=options, by=signed_in(request.user))
        except ReleaseError as error:
            if "managers" in str(error):
                raise PermissionDenied(str(error)) from None
            raise ValidationError({"non_field_errors": [str(error)]}) from None
        release = self.get_queryset().get(pk=release.pk)
        return Response(ReleaseSerializer(release).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Download one file of a ready release (streamed from the release storage)",
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH)],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"files/(?P<name>[A-Za-z0-9_./-]+)",
        url_name="file",
        renderer_classes=[JSONRenderer, FileRenderer],
    )
    def file(self, request: Request, slug: str, number: str, name: str) -> FileResponse:
        release = self.get_object()
        reject_unknown_params(request, set())
        opened = open_file(release, name)
        if opened is None:
            raise NotFound("No such file in this release, or the release is not ready.")
        handle, entry = opened
        filename = f"{release.corpus.slug}-release-{release.number}-{PurePosixPath(name).name}"
        response = FileResponse(handle, as_attachment=True, filename=filename)
        response["Content-Type"] = content_type(name)
        response["Content-Length"] = str(entry["bytes"])
        return response

    @extend_schema(
        summary="What changed since an earlier release: sentences, labels, gold labels",
        parameters=[
            OpenApiParameter("from", int, required=True, description="The earlier release."),
            OpenApiParameter("limit", int, description="Entries per list (default 1000)."),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def diff(self, request: Request, slug: str, number: str) -> Response:
        # The corpus and role first: a non-member learns nothing, not even what is invalid.
        new = self.get_object()
        reject_unknown_params(request, {"from", "limit"})
        query = DiffQuerySerializer(data=request.query_params.dict())
        if not query.is_valid():
            errors = {("from" if k == "from_" else k): v for k, v in query.errors.items()}
            raise ValidationError(errors)
        old = self.get_queryset().filter(number=query.validated_data["from_"]).first()
        if old is None:
            raise ValidationError({"from": ["No release with this number in this corpus."]})
        for release in (old, new):
            if release.status != ReleaseStatus.READY:
                raise ValidationError(
                    {
                        "from" if release is old else "number": [
                            f"Release {release.number} is not ready."
                        ]
                    }
                )
        return Response(release_diff(old, new, limit=query.validated_data["limit"]))
