"""The database side of dataset exports: the corpus schema and chunks of plain rows, and the
streamed download every web entry point answers with (`export_response`).

Articles are read in keyset pages (`id > last`), and each page costs the same five queries
(articles, sentences, annotations, notes, gold labels) however many rows it holds, so memory and
query count stay flat from a hundred sentences to millions. The rows go to the pure encoders in
`exporting.py`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Count, F, Q, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from annotator.background_stream import at_low_priority
from annotator.exporting import (
    FIELD_DESCRIPTIONS,
    LAYERS,
    LONG_FIELDS,
    PREDICTION_FIELD_DESCRIPTIONS,
    SEGMENTER,
    Encoding,
    ExportChunk,
    ExportOptions,
    ExportSchema,
    Shape,
    encode_chunks,
)
from annotator.middleware import site_activity
from annotator.models import (
    Annotation,
    Article,
    Corpus,
    GoldLabel,
    Layer,
    ModelStatus,
    ModelVersion,
    Prediction,
    Sentence,
    SentenceNote,
)
from annotator.segmentation import SEGMENTER_VERSION


@dataclass(frozen=True)
class ExportRequest:
    """What to export; validated by the API serializer or the management command."""

    encoding: Encoding = "jsonl"
    shape: Shape = "wide"
    layer: str | None = None
    anonymize: bool = False
    only_gold: bool = False
    only_complete: bool = False
    include_excluded: bool = False
    since: datetime | None = None
    until: datetime | None = None
    include_predictions: bool = False


def pseudonym_key() -> bytes:
    """The export pseudonym key: EXPORT_PSEUDONYM_KEY, else one derived from SECRET_KEY."""
    if settings.EXPORT_PSEUDONYM_KEY:
        return settings.EXPORT_PSEUDONYM_KEY.encode("utf-8")
    return hmac.new(
        settings.SECRET_KEY.encode("utf-8"), b"annotator.export.pseudonym", hashlib.sha256
    ).digest()


def export_schema(
    corpus: Corpus, *, layer: str | None = None, include_excluded: bool = False
) -> ExportSchema:
    choices = list(corpus.choices.order_by("layer", "order", "id").values_list("layer", "value"))
    return ExportSchema(
        corpus=corpus.slug,
        schema_version=corpus.schema_version,
        claim_types=tuple(value for lay, value in choices if lay == Layer.CLAIM_TYPE),
        stances=tuple(value for lay, value in choices if lay == Layer.STANCE),
        targets=tuple(corpus.stance_targets.order_by("order", "id").values_list("id", "name")),
        layers=(layer,) if layer else LAYERS,
        excluded_field=include_excluded,
    )


def export_options(request: ExportRequest) -> ExportOptions:
    return ExportOptions(
        anonymize=request.anonymize,
        pseudonym_key=pseudonym_key() if request.anonymize else b"",
        only_gold=request.only_gold,
        require_annotation=bool(request.since or request.until) or request.shape == "long",
        include_predictions=request.include_predictions,
    )


def iter_chunks(
    corpus: Corpus, request: ExportRequest, *, chunk_size: int | None = None
) -> Iterator[ExportChunk]:
    """Chunks of about `chunk_size` sentences (whole articles), five queries each.

    Up front: sentence totals, choice values and member names (three queries).
    """
    chunk_size = chunk_size or settings.EXPORT_CHUNK_SIZE
    articles = Article.objects.filter(corpus=corpus).order_by("id")
    if request.only_complete:
        articles = articles.complete()
    # Articles per page from the corpus's mean sentences per article, so a chunk is about
    # `chunk_size` sentences; the mean comes from one cheap query up front.
    totals = Sentence.objects.filter(article__corpus=corpus).aggregate(
        sentences=Count("id"), articles=Count("article_id", distinct=True)
    )
    mean = (totals["sentences"] / totals["articles"]) if totals["articles"] else 1
    articles_per_chunk = max(1, int(chunk_size / max(mean, 1)))

    annotations = Annotation.objects.all()
    if request.layer:
        annotations = annotations.filter(layer=request.layer)
    if request.since:
        annotations = annotations.filter(updated_at__gte=request.since)
    if request.until:
        annotations = annotations.filter(updated_at__lt=request.until)
    gold = GoldLabel.objects.filter(confirmed=True)
    if request.layer:
        gold = gold.filter(layer=request.layer)
    values = dict(corpus.choices.values_list("id", "value"))
    usernames = dict(
        get_user_model().objects.filter(memberships__corpus=corpus).values_list("id", "username")
    )

    # Excluded page furniture only when asked for (it is then flagged in each record).
    in_export = Sentence.objects.all() if request.include_excluded else Sentence.objects.counted()

    # Model assistance: which versions' predictions go in, and how they are named (one query,
    # only when asked for).
    with_predictions = request.include_predictions
    version_names = (
        {
            v.pk: (v.layer, v.target_id, v.name, v.version)
            for v in exported_model_versions(corpus, layer=request.layer)
        }
        if with_predictions
        else {}
    )

    last_id = 0
    while True:
        article_rows = list(
            articles.filter(id__gt=last_id).values_list(
                "id", "external_id", "title", "url", "segmenter_version"
            )[:articles_per_chunk]
        )
        if not article_rows:
            return
        last_id = article_rows[-1][0]
        first_id = article_rows[0][0]
        # A range on article_id (not IN with thousands of ids) keeps the plans index-friendly;
        # rows of articles filtered out in between are dropped by the encoder's article lookup.
        in_range = {"article_id__gte": first_id, "article_id__lte": last_id}
        article_ids = {row[0] for row in article_rows}
        sentences = [
            row
            for row in _fetch_tuples(
                in_export.filter(**in_range)
                .order_by("article_id", "ordinal")
                .values_list(
                    "id", "article_id", "ordinal", "paragraph", "start", "end", "text", "excluded"
                )
            )
            if row[1] in article_ids
        ]
        if not sentences:
            continue
        # Rows of sentences outside the page's articles (other corpora or filtered-out
        # articles in the id range) are dropped here rather than with a join per query.
        sentence_ids = {row[0] for row in sentences}
        id_range = {"sentence_id__gte": min(sentence_ids), "sentence_id__lte": max(sentence_ids)}
        # Ids only, no joins: names and values come from the small maps built up front, which
        # keeps PostgreSQL on the sentence index and Python off per-row model machinery.
        fields = ["sentence_id", "annotator_id", "layer", "target_id", "choice_id", "seconds_spent"]
        if request.shape == "long":
            fields.append("updated_at")
        if with_predictions:
            fields += ["suggestion_visible", "suggested_choice_id", "suggestion_model_id"]
        raw = _fetch_tuples(
            annotations.filter(**id_range)
            .order_by("sentence_id", "annotator_id", "layer", "target_id")
            .values_list(*fields)
        )
        # The id range holds only this page's sentences unless other articles interleave.
        if len(sentence_ids) != id_range["sentence_id__lte"] - id_range["sentence_id__gte"] + 1:
            raw = [row for row in raw if row[0] in sentence_ids]
        _learn_usernames(usernames, {row[1] for row in raw})
        extra: dict = {}
        if with_predictions:
            extra["suggestions"] = {
                (row[0], usernames[row[1]], row[2], row[3]): (
                    row[-3],
                    values.get(row[-2]) if row[-2] is not None else None,
                    row[-1],
                )
                for row in raw
                if row[-3] is not None
            }
            extra["predictions"] = _prediction_rows(id_range, sentence_ids, version_names, values)
        if request.shape == "long":
            annotation_rows = [
                (
                    row[0],
                    usernames[row[1]],
                    row[2],
                    row[3],
                    values[row[4]],
                    row[5],
                    row[6].isoformat(),
                )
                for row in raw
            ]
        else:
            annotation_rows = [
                (row[0], usernames[row[1]], row[2], row[3], values[row[4]], row[5], "")
                for row in raw
            ]
        del raw
        note_rows: list = []
        gold_rows: list = []
        if request.shape == "wide":
            note_rows = [
                row
                for row in SentenceNote.objects.filter(**id_range)
                .filter(Q(unsure=True) | ~Q(note=""))
                .values_list("sentence_id", "annotator__username", "unsure", "note")
                if row[0] in sentence_ids
            ]
            gold_rows = [
                row
                for row in gold.filter(**id_range).values_list(
                    "sentence_id", "layer", "target_id", F("choice__value"), "method"
                )
                if row[0] in sentence_ids
            ]
        yield ExportChunk(
            articles=article_rows,
            sentences=sentences,
            annotations=annotation_rows,
            notes=note_rows,
            gold=gold_rows,
            extra=extra,
        )


def exported_model_versions(corpus: Corpus, *, layer: str | None = None) -> list[ModelVersion]:
    """The model versions whose predictions an export (or a release's card) names: each layer's
    current trained version, and the newest version of each external model per layer."""
    versions = (
        ModelVersion.objects.filter(corpus=corpus, status=ModelStatus.DONE)
        .defer("model_bytes")
        .order_by("layer", "target_id", "name", "-number", "-created_at")
    )
    if layer:
        versions = versions.filter(layer=layer)
    chosen: dict[tuple, ModelVersion] = {}
    for version in versions:
        key = (version.layer, version.target_id, version.kind, version.name)
        chosen.setdefault(key, version)
    return list(chosen.values())


def _prediction_rows(
    id_range: dict[str, int],
    sentence_ids: set[int],
    version_names: dict[int, tuple[str, int | None, str, str]],
    values: dict[int, str],
) -> dict[int, list[tuple]]:
    """sentence id -> [(layer, target id, model, version, label, score)] of the page."""
    if not version_names:
        return {}
    rows: dict[int, list[tuple]] = {}
    for sentence_id, version_id, choice_id, score in _fetch_tuples(
        Prediction.objects.filter(model_version_id__in=list(version_names), **id_range)
        .order_by("sentence_id", "model_version_id")
        .values_list("sentence_id", "model_version_id", "choice_id", "score")
    ):
        if sentence_id in sentence_ids:
            layer, target_id, name, version = version_names[version_id]
            rows.setdefault(sentence_id, []).append(
                (layer, target_id, name, version, values.get(choice_id), score)
            )
    return rows


def _fetch_tuples(queryset: QuerySet) -> list[tuple]:
    """The rows of a values_list queryset straight from the driver.

    Skips Django's per-row iterator, a third of an export's time at a million annotations;
    only for columns whose database values need no conversion (ints, floats, text, and
    timestamps, which psycopg2 already returns as aware datetimes).
    """
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _learn_usernames(usernames: dict[int, str], ids: set[int]) -> None:
    """Add the names of annotators who have left the corpus (one query, only when needed)."""
    missing = ids - usernames.keys()
    if missing:
        usernames.update(
            get_user_model().objects.filter(id__in=missing).values_list("id", "username")
        )


def stream_export(
    corpus: Corpus,
    request: ExportRequest,
    *,
    chunk_size: int | None = None,
    chunks: Iterable[ExportChunk] | None = None,
) -> Iterator[bytes]:
    """The export as UTF-8 pieces, one per chunk, ready for StreamingHttpResponse or a file.

    `chunks` lets a caller wrap `iter_chunks` (e.g. with a progress bar).
    """
    if chunks is None:
        chunks = iter_chunks(corpus, request, chunk_size=chunk_size)
    return encode_chunks(
        chunks,
        schema=export_schema(
            corpus, layer=request.layer, include_excluded=request.include_excluded
        ),
        options=export_options(request),
        encoding=request.encoding,
        shape=request.shape,
    )


def export_response(corpus: Corpus, request: ExportRequest) -> StreamingHttpResponse:
    """The export as a download: the API's and the export page's answer, the same bytes, made
    in the same low-priority thread at the same pace (EXPORT_NICENESS, EXPORT_DUTY_CYCLE)."""
    content_type = (
        "text/csv; charset=utf-8" if request.encoding == "csv" else "application/x-ndjson"
    )
    body = at_low_priority(
        stream_export(corpus, request),
        niceness=settings.EXPORT_NICENESS,
        duty_cycle=settings.EXPORT_DUTY_CYCLE,
        busy=site_activity().recently_active,
    )
    response = StreamingHttpResponse(body, content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    filename = f"{corpus.slug}-{request.shape}-{stamp}.{request.encoding}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Proxies must pass the stream through rather than buffer it whole.
    response["X-Accel-Buffering"] = "no"
    return response


def dataset_card(corpus: Corpus, *, replicates: int = 200) -> dict[str, object]:
    """What a dataset user needs beside the records: fields, labels, counts, agreement."""
    from annotator.statistics import CARD_KEYS, corpus_agreement

    agreement = corpus_agreement(corpus, replicates=replicates)
    # Excluded page furniture is not part of the dataset (Sentence.objects.counted).
    counted = Sentence.objects.counted().filter(article__corpus=corpus)
    return {
        "corpus": corpus.slug,
        "name": corpus.name,
        "description": corpus.description,
        "schema_version": corpus.schema_version,
        "counts": {
            "articles": corpus.articles.count(),
            "sentences": counted.count(),
            "annotations": Annotation.objects.filter(sentence__in=counted).count(),
            "gold_labels": GoldLabel.objects.filter(sentence__in=counted, confirmed=True).count(),
        },
        "labels": {
            layer: list(
                corpus.choices.filter(layer=layer)
                .order_by("order", "id")
                .values("value", "name", "numeric_code")
            )
            for layer in LAYERS
        },
        "stance_targets": list(
            corpus.stance_targets.order_by("order", "id").values("id", "name", "description")
        ),
        "segmenter": {
            "name": SEGMENTER,
            # What a new import would use; articles split by an older version keep theirs.
            "current_version": SEGMENTER_VERSION,
            "articles_per_version": dict(
                corpus.articles.order_by("segmenter_version")
                .values("segmenter_version")
                .annotate(n=Count("id"))
                .values_list("segmenter_version", "n")
            ),
        },
        "fields": FIELD_DESCRIPTIONS,
        "prediction_fields": PREDICTION_FIELD_DESCRIPTIONS,
        "models": model_versions_card(corpus),
        "long_fields": list(LONG_FIELDS),
        "agreement": [{key: layer[key] for key in CARD_KEYS} for layer in agreement],
        "loading": {
            "pandas": "pandas.read_json('export.jsonl', lines=True)",
            "datasets": "datasets.load_dataset('json', data_files='export.jsonl')",
        },
    }


def model_versions_card(corpus: Corpus) -> list[dict[str, object]]:
    """The model versions a dataset names: those whose predictions an export with
    include_predictions carries, and those whose suggestions annotators saw (with how many of
    the labels were made with one of their suggestions shown or hidden)."""
    suggested = dict(
        Annotation.objects.filter(sentence__article__corpus=corpus, suggestion_model__isnull=False)
        .order_by()
        .values("suggestion_model")
        .annotate(n=Count("id"))
        .values_list("suggestion_model", "n")
    )
    exported = {v.pk: v for v in exported_model_versions(corpus)}
    others = ModelVersion.objects.filter(pk__in=set(suggested) - set(exported)).defer("model_bytes")
    versions = sorted(
        [*exported.values(), *others], key=lambda v: (v.layer, v.target_id or 0, v.name, v.pk)
    )
    return [
        {
            "id": v.pk,
            "name": v.name,
            "version": v.version,
            "kind": v.kind,
            "layer": v.layer,
            "target": v.target_id,
            "created_at": v.created_at.isoformat(timespec="seconds"),
            "label_source": v.label_source or None,
            "training_data": v.data or None,
            "macro_f1": v.scores.get("macro_f1"),
            "macro_f1_interval": v.scores.get("macro_f1_interval"),
            "predictions_exported": v.pk in exported,
            "labels_with_its_suggestion": suggested.get(v.pk, 0),
        }
        for v in versions
    ]
