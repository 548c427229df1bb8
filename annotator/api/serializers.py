"""API serializers, split by direction: `*Serializer` for output, `*InputSerializer` for input.

Output serializers read rows the views already fetched with select_related/annotations; input
serializers validate and are turned into writes by the views through the domain modules
(annotating.py, importing.py), never by `serializer.save()` across models.
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import models
from rest_framework import serializers

from annotator.models import (
    Annotation,
    ApiToken,
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


class StrictBooleanField(serializers.BooleanField):
    """JSON true/false only: DRF's BooleanField also takes "0", 1, "yes", ... silently."""

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)


if TYPE_CHECKING:
    # What the mixin is mixed into, so mypy knows the super() call.
    _JsonTypedBase = serializers.Field[Any, Any, Any, Any]
else:
    _JsonTypedBase = object


class _JsonTyped(_JsonTypedBase):
    """JSON bodies are typed: DRF would turn 0 into "0" or "1" into 1; we refuse instead."""

    json_types: tuple[type, ...] = ()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, self.json_types):
            raise serializers.ValidationError(
                f"Expected a JSON {self.json_types[0].__name__}, got {type(data).__name__}."
            )
        return super().to_internal_value(data)


class StrictCharField(_JsonTyped, serializers.CharField):
    json_types = (str,)


class StrictSlugField(_JsonTyped, serializers.SlugField):
    json_types = (str,)


class StrictIntegerField(_JsonTyped, serializers.IntegerField):
    json_types = (int,)


class StrictFloatField(_JsonTyped, serializers.FloatField):
    json_types = (float, int)


# --- Corpora and schema ------------------------------------------------------------------


class CorpusSerializer(serializers.ModelSerializer):
    role = serializers.CharField(read_only=True, help_text="The caller's role in this corpus.")

    class Meta:
        model = Corpus
        fields = [
            "slug",
            "name",
            "description",
            "guidelines",
            "annotators_per_article",
            "stance_required",
            "schema_version",
            "created_at",
            "role",
        ]
        read_only_fields = fields


class CorpusInputSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.SlugField: StrictSlugField,
        models.PositiveSmallIntegerField: StrictIntegerField,
    }
    stance_required = StrictBooleanField(required=False)

    class Meta:
        model = Corpus
        fields = [
            "slug",
            "name",
            "description",
            "guidelines",
            "annotators_per_article",
            "stance_required",
        ]
        extra_kwargs = {"annotators_per_article": {"min_value": 1, "max_value": 100}}


class LabelChoiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = LabelChoice
        fields = ["layer", "value", "name", "key", "order", "numeric_code"]
        read_only_fields = fields


class StanceTargetSerializer(serializers.ModelSerializer):
    class Meta:
        model = StanceTarget
        fields = ["id", "name", "slug", "description", "order"]
        read_only_fields = fields


class SchemaSerializer(serializers.Serializer):
    schema_version = serializers.IntegerField()
    choices = LabelChoiceSerializer(many=True)
    stance_targets = StanceTargetSerializer(many=True)


# --- Members -----------------------------------------------------------------------------


class MembershipSerializer(serializers.ModelSerializer):
    corpus: serializers.SlugRelatedField[Corpus] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "corpus", "username", "role", "created_at"]
        read_only_fields = fields


class MembershipInputSerializer(serializers.Serializer):
    corpus = StrictSlugField(help_text="Slug of a corpus the caller manages.")
    username = StrictCharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.ANNOTATOR)

    def validate_username(self, value: str) -> Any:
        user = get_user_model().objects.filter(username=value, is_active=True).first()
        if user is None:
            raise serializers.ValidationError(f"No active user is called {value!r}.")
        return user


class MembershipRoleInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


# --- Articles and sentences ----------------------------------------------------------------


class SentenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sentence
        # zone and excluded: an API client labels what the workspace lets people label
        # (excluded page furniture is refused, reader comments are context to judge as such).
        fields = [
            "id",
            "article",
            "ordinal",
            "paragraph",
            "start",
            "end",
            "text",
            "zone",
            "zone_confirmed",
            "excluded",
        ]
        read_only_fields = fields


class ArticleSerializer(serializers.ModelSerializer):
    corpus: serializers.SlugRelatedField[Corpus] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    url = serializers.CharField(read_only=True, help_text="Source URL; empty when unknown.")
    sentence_count = serializers.IntegerField(read_only=True)
    done_assignments = serializers.IntegerField(
        source="done_count", read_only=True, help_text="Annotators who finished the article."
    )
    annotators_per_article = serializers.IntegerField(
        source="corpus.annotators_per_article", read_only=True
    )
    complete = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = [
            "id",
            "corpus",
            "external_id",
            "title",
            "url",
            "imported_at",
            "sentence_count",
            "done_assignments",
            "annotators_per_article",
            "complete",
        ]
        read_only_fields = fields

    def get_complete(self, article: Article) -> bool:
        return article.is_complete


class ArticleDetailSerializer(ArticleSerializer):
    sentences = serializers.SerializerMethodField()

    class Meta(ArticleSerializer.Meta):
        fields = [
            *ArticleSerializer.Meta.fields,
            "text",
            "metadata",
            "segmenter_version",
            "sentences",
        ]
        read_only_fields = fields

    def get_sentences(self, article: Article) -> list[dict[str, Any]]:
        # many=True makes a ListSerializer (data: a list); the stubs keep the Serializer type.
        return SentenceSerializer(article.sentences.order_by("ordinal"), many=True).data  # type: ignore[return-value]


class ArticleInputSerializer(serializers.Serializer):
    """One article as JSON, or a .txt/.jsonl/.zip file upload (multipart) of many."""

    corpus = StrictSlugField(help_text="Slug of a corpus the caller manages.")
    external_id = StrictCharField(max_length=300, required=False)
    title = StrictCharField(max_length=500, required=False, allow_blank=True)
    url = serializers.URLField(max_length=2000, required=False, allow_blank=True)
    text = StrictCharField(required=False, trim_whitespace=False)
    metadata = serializers.DictField(required=False)
    file = serializers.FileField(required=False, help_text="A .txt, .jsonl or .zip file.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "file" in attrs:
            extra = set(attrs) - {"corpus", "file"}
            if extra:
                raise serializers.ValidationError(
                    {name: ["Not allowed with a file upload."] for name in sorted(extra)}
                )
            return attrs
        missing = [name for name in ("external_id", "text") if not attrs.get(name)]
        if missing:
            raise serializers.ValidationError(
                {name: ["Required unless a file is uploaded."] for name in missing}
            )
        return attrs


class ImportSummarySerializer(serializers.Serializer):
    imported = serializers.IntegerField()
    sentences = serializers.IntegerField()
    skipped = serializers.IntegerField()
    skipped_names = serializers.ListField(child=serializers.CharField())
    articles = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of the articles this request created."
    )


# --- Annotations and gold -------------------------------------------------------------------


class AnnotationSerializer(serializers.ModelSerializer):
    """A label, with the model suggestion recorded when it was saved (assisting.py).

    The suggestion fields are null when no suggestion was computed. For the caller's own
    labels they show only a suggestion the caller was shown: a hidden control suggestion stays
    hidden from the annotator it was hidden from (null), and is shown to the managers and
    curators who read everyone's labels.
    """

    article = serializers.IntegerField(source="sentence.article_id", read_only=True)
    annotator = serializers.CharField(source="annotator.username", read_only=True)
    # The serializer metaclass moves declared fields into _declared_fields, so this does not
    # replace Field.label at runtime; djangorestframework-stubs sees a class attribute clash.
    label = serializers.CharField(source="choice.value", read_only=True)  # type: ignore[assignment]
    suggestion_visible = serializers.SerializerMethodField(
        help_text="True: the suggestion was shown; false: hidden as a control; null: none."
    )
    suggested_label = serializers.SerializerMethodField(
        help_text="The label the model suggested (a value of the layer), or null."
    )
    suggestion_model = serializers.SerializerMethodField(
        help_text="The model version (id) whose suggestion it was, or null."
    )

    class Meta:
        model = Annotation
        fields = [
            "id",
            "sentence",
            "article",
            "annotator",
            "layer",
            "target",
            "label",
            "seconds_spent",
            "created_at",
            "updated_at",
            "suggestion_visible",
            "suggested_label",
            "suggestion_model",
        ]
        read_only_fields = fields

    def _suggestion_shown_to_caller(self, annotation: Annotation) -> bool:
        request = self.context.get("request")
        own = request is None or annotation.annotator_id == request.user.pk
        return not own or annotation.suggestion_visible is True

    def get_suggestion_visible(self, annotation: Annotation) -> bool | None:
        if not self._suggestion_shown_to_caller(annotation):
            return None
        return annotation.suggestion_visible

    def get_suggested_label(self, annotation: Annotation) -> str | None:
        if not self._suggestion_shown_to_caller(annotation):
            return None
        choice = annotation.suggested_choice
        return None if choice is None else choice.value

    def get_suggestion_model(self, annotation: Annotation) -> int | None:
        if not self._suggestion_shown_to_caller(annotation):
            return None
        return annotation.suggestion_model_id


class AnnotationInputSerializer(serializers.Serializer):
    """An upsert: the caller's label for (sentence, layer, target) becomes `label`."""

    sentence = StrictIntegerField(min_value=1)
    layer = serializers.ChoiceField(choices=Layer.choices)
    target = StrictIntegerField(
        min_value=1, required=False, allow_null=True, help_text="Stance target id (stance only)."
    )
    # The serializer metaclass moves declared fields into _declared_fields, so this does not
    # replace Field.label at runtime; djangorestframework-stubs sees a class attribute clash.
    label = StrictSlugField(max_length=50, help_text="A label value of the layer.")  # type: ignore[assignment]
    seconds = StrictFloatField(
        required=False, default=0, min_value=0, max_value=86400, help_text="Time spent, added."
    )


class AnnotationImportLineSerializer(serializers.Serializer):
    """One JSONL line of a bulk import of labels made in another tool."""

    external_id = serializers.CharField(max_length=300, help_text="The article's external id.")
    sentence_index = serializers.IntegerField(min_value=0)
    layer = serializers.ChoiceField(choices=Layer.choices)
    target = serializers.CharField(
        max_length=200, required=False, allow_null=True, help_text="Stance target name."
    )
    # The serializer metaclass moves declared fields into _declared_fields, so this does not
    # replace Field.label at runtime; djangorestframework-stubs sees a class attribute clash.
    label = serializers.SlugField(max_length=50)  # type: ignore[assignment]
    annotator = serializers.CharField(
        max_length=150, required=False, help_text="Username (managers only); default: caller."
    )
    seconds = serializers.FloatField(required=False, default=0, min_value=0, max_value=86400)


class AnnotationImportInputSerializer(serializers.Serializer):
    corpus = serializers.SlugField()
    file = serializers.FileField(help_text="JSONL, one label per line.")


class AnnotationImportResultSerializer(serializers.Serializer):
    lines = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class GoldLabelSerializer(serializers.ModelSerializer):
    article = serializers.IntegerField(source="sentence.article_id", read_only=True)
    # The serializer metaclass moves declared fields into _declared_fields, so this does not
    # replace Field.label at runtime; djangorestframework-stubs sees a class attribute clash.
    label = serializers.CharField(source="choice.value", read_only=True)  # type: ignore[assignment]
    decided_by = serializers.CharField(source="decided_by.username", read_only=True)

    class Meta:
        model = GoldLabel
        fields = [
            "id",
            "sentence",
            "article",
            "layer",
            "target",
            "label",
            "method",
            "confirmed",
            "decided_by",
            "decided_at",
            "note",
        ]
        read_only_fields = fields


# --- Export ---------------------------------------------------------------------------------


class ExportQuerySerializer(serializers.Serializer):
    """The export's options, for every entry point (annotator/export_options.py): the API's
    query string, the export page's form and `manage.py export_dataset`'s flags."""

    format = serializers.ChoiceField(
        choices=["jsonl", "csv"],
        default="jsonl",
        label="Format",
        help_text="jsonl: one JSON record per line; csv: a table, summaries as columns.",
    )
    shape = serializers.ChoiceField(
        choices=["wide", "long"],
        default="wide",
        label="Shape",
        help_text="wide: one record per sentence; long: one row per annotation.",
    )
    layer = serializers.ChoiceField(
        choices=Layer.choices, required=False, label="Layer", help_text="Only this layer."
    )
    anonymize = serializers.BooleanField(
        default=False,
        label="Anonymize",
        help_text="Replace usernames with stable pseudonyms.",
    )
    only_gold = serializers.BooleanField(
        default=False, label="Only gold", help_text="Only sentences with a gold label."
    )
    only_complete = serializers.BooleanField(
        default=False,
        label="Only complete",
        help_text="Only articles every assigned annotator finished.",
    )
    include_excluded = serializers.BooleanField(
        default=False,
        label="Include excluded",
        help_text="Also the sentences a manager excluded as page furniture, each record with "
        "excluded: true or false (left out by default).",
    )
    include_predictions = serializers.BooleanField(
        default=False,
        label="Include predictions",
        help_text=(
            "Add each sentence's model predictions (the current baseline model of each layer "
            "and every external model's newest version) and, per label, the suggestion shown "
            "or hidden when it was made."
        ),
    )
    since = serializers.DateTimeField(
        required=False, label="Since", help_text="Annotations changed from."
    )
    until = serializers.DateTimeField(
        required=False, label="Until", help_text="Annotations changed before."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name in ("since", "until"):
            if attrs.get(name) is not None:
                try:
                    # PostgreSQL refuses offsets beyond ±15:59; UTC is always fine.
                    attrs[name] = attrs[name].astimezone(UTC)
                except OverflowError:
                    raise serializers.ValidationError({name: ["Out of range."]}) from None
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": ["Must be after `since`."]})
        return attrs


class AgreementQuerySerializer(serializers.Serializer):
    level = serializers.ChoiceField(
        choices=["nominal", "ordinal", "interval", "ratio"],
        required=False,
        help_text="Alpha's level.",
    )
    replicates = serializers.IntegerField(
        min_value=0, max_value=5000, default=1000, help_text="Bootstrap replicates for alpha's CI."
    )


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


# --- Predictions (model assistance, annotator/assisting.py) ------------------------------------


class PredictionSerializer(serializers.ModelSerializer):
    article = serializers.IntegerField(source="sentence.article_id", read_only=True)
    target = serializers.CharField(source="target.slug", read_only=True, allow_null=True)
    # Declared fields are moved into _declared_fields by the metaclass (see AnnotationSerializer).
    label = serializers.CharField(source="choice.value", read_only=True)  # type: ignore[assignment]
    model = serializers.CharField(source="model_version.name", read_only=True)
    model_version = serializers.CharField(source="model_version.version", read_only=True)
    model_version_id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(source="model_version.kind", read_only=True)
    probabilities = serializers.DictField(
        child=serializers.FloatField(), allow_null=True, read_only=True
    )

    class Meta:
        model = Prediction
        fields = [
            "id",
            "sentence",
            "article",
            "layer",
            "target",
            "label",
            "score",
            "probabilities",
            "model",
            "model_version",
            "model_version_id",
            "kind",
            "created_at",
        ]
        read_only_fields = fields


class PredictionRecordSerializer(serializers.Serializer):
    """One prediction as posted (documentation: `assisting.import_predictions` checks them)."""

    sentence = serializers.IntegerField(
        required=False, help_text="Sentence id; or give article and sentence_index."
    )
    article = serializers.CharField(required=False, help_text="The article's external id.")
    sentence_index = serializers.IntegerField(
        required=False, min_value=0, help_text="The sentence's position in its article, from 0."
    )
    layer = serializers.ChoiceField(choices=Layer.choices)
    target = serializers.CharField(
        required=False, allow_null=True, help_text="Stance target slug (stance only)."
    )
    # Declared fields are moved into _declared_fields by the metaclass (see AnnotationSerializer).
    label = serializers.CharField(help_text="A label value of the layer.")  # type: ignore[assignment]
    score = serializers.FloatField(min_value=0, max_value=1, help_text="Probability of label.")
    probabilities = serializers.DictField(
        child=serializers.FloatField(min_value=0, max_value=1),
        required=False,
        help_text="Probability of each label value (optional).",
    )
    model = serializers.CharField(max_length=100, help_text="Model name.")
    model_version = serializers.CharField(max_length=100, help_text="Model version.")


class PredictionBatchInputSerializer(serializers.Serializer):
    corpus = serializers.SlugField()
    predictions = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        max_length=10_000,
        help_text="Prediction records (see PredictionRecord); all are stored or none.",
    )


class PredictionImportInputSerializer(serializers.Serializer):
    corpus = serializers.SlugField()
    file = serializers.FileField(help_text="JSONL, one prediction record per line.")


class PredictionImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    model_versions = serializers.ListField(child=serializers.DictField())
