"""Query-parameter allow-lists: django-filter FilterSets with explicit fields, and a backend
that answers 400 to any parameter it does not know.

django-filter ignores unknown parameters by default, so `?annotator__password__startswith=x`
would silently return everything; here it is an error naming the parameter, and there is no
free-form `ordering` (lists are ordered by id for cursor pagination).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

from annotator.models import (
    Annotation,
    Article,
    GoldLabel,
    GoldMethod,
    Layer,
    Membership,
    ModelKind,
    Prediction,
    Role,
    Sentence,
)

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from rest_framework.request import Request
    from rest_framework.views import APIView

PAGINATION_PARAMS = frozenset({"cursor", "page_size"})


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request: Request, queryset: QuerySet, view: APIView) -> QuerySet:
        allowed = set(PAGINATION_PARAMS) | set(getattr(view, "extra_query_params", ()))
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            allowed |= set(filterset_class.base_filters)
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            hint = f"allowed: {', '.join(sorted(allowed))}"
            raise ValidationError(
                {name: [f"Unknown query parameter ({hint})."] for name in unknown}
            )
        # django-filter skips empty values; a parameter that is sent means something, so an
        # empty one is a mistake to report rather than a filter to drop silently.
        empty = sorted(name for name, value in request.query_params.items() if value == "")
        if empty:
            raise ValidationError({name: ["Must not be empty."] for name in empty})
        return super().filter_queryset(request, queryset, view)


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """ISO 8601 date-time, compared in UTC: PostgreSQL refuses offsets beyond ±15:59."""

    def filter(self, qs: QuerySet, value: datetime | None) -> QuerySet:
        if value is not None:
            try:
                value = value.astimezone(UTC)
            except OverflowError:
                raise ValidationError({self.field_name: ["Date-time out of range."]}) from None
        return super().filter(qs, value)


class MembershipFilter(django_filters.FilterSet):
    corpus = django_filters.CharFilter(field_name="corpus__slug", help_text="Corpus slug.")
    role = django_filters.ChoiceFilter(choices=Role.choices)
    username = django_filters.CharFilter(field_name="user__username")

    class Meta:
        model = Membership
        fields = ["corpus", "role", "username"]


class ArticleFilter(django_filters.FilterSet):
    corpus = django_filters.CharFilter(field_name="corpus__slug", help_text="Corpus slug.")
    external_id = django_filters.CharFilter()
    imported_since = UtcDateTimeFilter(field_name="imported_at", lookup_expr="gte")

    class Meta:
        model = Article
        fields = ["corpus", "external_id", "imported_since"]


class SentenceFilter(django_filters.FilterSet):
    corpus = django_filters.CharFilter(field_name="article__corpus__slug", help_text="Corpus slug.")
    article = django_filters.NumberFilter(field_name="article_id")

    class Meta:
        model = Sentence
        fields = ["corpus", "article"]


class AnnotationFilter(django_filters.FilterSet):
    corpus = django_filters.CharFilter(
        field_name="sentence__article__corpus__slug", help_text="Corpus slug."
    )
    article = django_filters.NumberFilter(field_name="sentence__article_id")
    sentence = django_filters.NumberFilter(field_name="sentence_id")
    annotator = django_filters.CharFilter(field_name="annotator__username", help_text="Username.")
    layer = django_filters.ChoiceFilter(choices=Layer.choices)
    target = django_filters.NumberFilter(field_name="target_id", help_text="Stance target id.")
    label = django_filters.CharFilter(field_name="choice__value", help_text="Label value.")
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Annotation
        fields = [
            "corpus",
            "article",
            "sentence",
            "annotator",
            "layer",
            "target",
            "label",
            "updated_since",
        ]


class GoldLabelFilter(django_filters.FilterSet):
    corpus = django_filters.CharFilter(
        field_name="sentence__article__corpus__slug", help_text="Corpus slug."
    )
    article = django_filters.NumberFilter(field_name="sentence__article_id")
    sentence = django_filters.NumberFilter(field_name="sentence_id")
    layer = django_filters.ChoiceFilter(choices=Layer.choices)
    target = django_filters.NumberFilter(field_name="target_id", help_text="Stance target id.")
    label = django_filters.CharFilter(field_name="choice__value", help_text="Label value.")
    method = django_filters.ChoiceFilter(choices=GoldMethod.choices)
    updated_since = UtcDateTimeFilter(field_name="decided_at", lookup_expr="gte")

    class Meta:
        model = GoldLabel
        fields = [
            "corpus",
            "article",
            "sentence",
            "layer",
            "target",
            "label",
            "method",
            "updated_since",
        ]


class PredictionFilter(django_filters.FilterSet):
    corpus = django_filters.CharFilter(
        field_name="model_version__corpus__slug", help_text="Corpus slug."
    )
    article = django_filters.NumberFilter(field_name="sentence__article_id")
    sentence = django_filters.NumberFilter(field_name="sentence_id")
    layer = django_filters.ChoiceFilter(choices=Layer.choices)
    target = django_filters.CharFilter(field_name="target__slug", help_text="Stance target slug.")
    model = django_filters.CharFilter(
        method="filter_model", help_text="Model name, or name:version for one version."
    )
    model_version = django_filters.NumberFilter(
        field_name="model_version_id", help_text="Model version id."
    )
    kind = django_filters.ChoiceFilter(field_name="model_version__kind", choices=ModelKind.choices)
    label = django_filters.CharFilter(field_name="choice__value", help_text="Label value.")

    class Meta:
        model = Prediction
        fields = [
            "corpus",
            "article",
            "sentence",
            "layer",
            "target",
            "model",
            "model_version",
            "kind",
            "label",
        ]

    def filter_model(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        from annotator.assisting import model_name_filter

        return queryset.filter(model_name_filter(value))
