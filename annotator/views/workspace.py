"""Annotation workspace views: home, corpus page, next article, the article page, labelling
(htmx fragment or plain POST and redirect), notes, undo, skip, finish. (A manager's assignment
lives with the managers' console, views/console.py.)

Every view looks its object up through a queryset scoped to the signed-in user's corpora, so a
non-member gets 404, and labels are always read and written as `request.user`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple, TypedDict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.db.models import F, OuterRef, Subquery
from django.forms import Form
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from annotator.annotating import (
    LabelError,
    LabellingRefused,
    LabellingState,
    labelling_refusals,
    labelling_state,
    save_label,
    save_note,
    undo_last_change,
)
from annotator.assigning import (
    HOLDING_PLACE,
    AssignmentError,
    finish_assignment,
    next_assignment,
    reopen_if_incomplete,
    skip_assignment,
)
from annotator.forms import LabelForm, NoteForm, SkipForm, label_value
from annotator.guidelines import render_guidelines
from annotator.models import (
    Annotation,
    Article,
    Assignment,
    AssignmentStatus,
    Corpus,
    LabelChoice,
    Layer,
    Membership,
    Progress,
    Role,
    Sentence,
    SentenceNote,
    StanceTarget,
    SuggestionMode,
)
from annotator.request_types import AuthenticatedRequest
from annotator.suggesting import Key, Suggestion, seen_for_save, suggestions_for

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django_stubs_ext import WithAnnotations

# Roles that see everyone's labels; annotators see only their own (blind annotation).
SEES_ALL = Role.REVIEWERS


# ---------------------------------------------------------------------------------------------
# Reading helpers: everything the pages need, in a fixed number of queries.


@dataclass
class LabelButton:
    value: str
    choice: LabelChoice
    selected: bool
    # The same few buttons repeat on every row: built once per request (see Schema.button).
    html: SafeString = SafeString("")


@dataclass
class TargetRow:
    target: StanceTarget
    buttons: list[LabelButton]
    current: LabelChoice | None
    suggestion: Suggestion | None = None


class RowState(NamedTuple):
    """How a row's labels stand, as a CSS class name and the words on its badge."""

    code: str
    text: str


@dataclass
class SentenceRow:
    sentence: Sentence
    claim_buttons: list[LabelButton]
    claim: LabelChoice | None
    stances: list[TargetRow]
    note: SentenceNote | None
    complete: bool
    new_paragraph: bool = False
    missing: bool = False
    others: list[str] = field(default_factory=list)
    # The model's visible suggestions on the row, in words ("" when none is shown).
    hint: str = ""
    # Plain strings, so the template (run 300 times a page) does no lookups or reversing.
    id: str = ""
    number: str = ""
    label_url: str = ""
    note_url: str = ""

    @cached_property
    def state(self) -> RowState:
        """Derived from the fields above, so every way of building a row shows the same words.

        "Labelled" means every layer the row shows has a value; a row that counts as done
        with a stance still unset (stance optional) says so instead of claiming to be complete.
        """
        stances_set = sum(stance.current is not None for stance in self.stances)
        if self.claim is None:
            if stances_set:
                return RowState("partial", "Claim type missing")
            return RowState("todo", "Not labelled")
        if stances_set == len(self.stances):
            return RowState("done", "✓ Labelled")
        if self.complete:
            return RowState("optional", "Stance not set (optional)")
        return RowState("partial", "Stance missing")


@dataclass
class Schema:
    """A corpus's label schema, read once per schema version and process (see `of`)."""

    claim_choices: list[LabelChoice]
    stance_choices: list[LabelChoice]
    targets: list[StanceTarget]
    _buttons: dict[tuple[int, int | None, bool, bool], SafeString] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def of(cls, corpus: Corpus) -> Schema:
        """The schema of `corpus` as of `corpus.schema_version`, from this process's cache.

        Every write to a corpus's choices or stance targets bumps its schema_version (model
        save/delete, bulk_create, and the bulk writes that bump by hand), and every page reads
        the version with the corpus, so a cached schema is never older than the version the
        request saw. The version is bumped after the write, so a schema read after the version
        is as new or newer; one entry per corpus, replaced when the version moves.
        """
        cached = _SCHEMAS.get(corpus.pk)
        if cached is not None and cached[0] == corpus.schema_version:
            return cached[1]
        schema = cls.read(corpus)
        _SCHEMAS[corpus.pk] = (corpus.schema_version, schema)
        return schema

    @classmethod
    def read(cls, corpus: Corpus) -> Schema:
        choices = list(
            LabelChoice.objects.filter(corpus_id=corpus.pk).order_by("layer", "order", "pk")
        )
        return cls(
            claim_choices=[c for c in choices if c.layer == Layer.CLAIM_TYPE],
            stance_choices=[c for c in choices if c.layer == Layer.STANCE],
            targets=list(StanceTarget.objects.filter(corpus_id=corpus.pk).order_by("order", "pk")),
        )

    def button(
        self,
        choice: LabelChoice,
        target: StanceTarget | None,
        *,
        selected: bool,
        preselected: bool = False,
    ) -> LabelButton:
        """A label button; its HTML depends only on choice, target and state, so it is cached:
        a 300-sentence page would otherwise render 3,000 near-identical template fragments.

        A pre-selected button (the model's suggestion, "preselect" mode) only looks chosen:
        it is not pressed, and nothing is stored until the annotator presses it (or Enter)."""
        key = (choice.pk, target.pk if target else None, selected, preselected)
        value = label_value(choice, target)
        if key not in self._buttons:
            self._buttons[key] = format_html(
                '<button type="submit" name="label" value="{}" class="choice{}{}" '
                'aria-pressed="{}" data-key="{}"{}><kbd>{}</kbd> {}</button>',
                value,
                " selected" if selected else "",
                " preselected" if preselected else "",
                "true" if selected else "false",
                choice.key,
                SafeString(
                    ' data-preselected title="Suggested by the model, not saved: press '
                    'its key or Enter to accept"'
                )
                if preselected
                else "",
                choice.key,
                choice.name,
            )
        return LabelButton(value, choice, selected, self._buttons[key])

    @cached_property
    def choices_by_id(self) -> dict[int, LabelChoice]:
        return {c.pk: c for c in self.claim_choices + self.stance_choices}

    @cached_property
    def targets_by_id(self) -> dict[int, StanceTarget]:
        return {t.pk: t for t in self.targets}


# corpus id -> (schema_version, Schema). Shared by the threads of a process: entries are only
# ever replaced whole, and a Schema's button cache holds values that depend on its key alone.
_SCHEMAS: dict[int, tuple[int, Schema]] = {}


def forget_schemas() -> None:
    """Empty this process's schema cache (tests pin query counts from a cold start)."""
    _SCHEMAS.clear()


def url_maker(name: str) -> Callable[[int], str]:
    """URLs of one `<int:pk>` pattern for many pks, reversing once instead of per row."""
    prefix, suffix = reverse(name, kwargs={"pk": 0}).rsplit("/0/", 1)
    return lambda pk: f"{prefix}/{pk}/{suffix}"


def build_rows(
    *,
    sentences: Iterable[Sentence],
    schema: Schema,
    stance_required: bool,
    annotations: Iterable[Annotation],
    notes: Iterable[SentenceNote],
    others: Iterable[Annotation] = (),
    suggestions: dict[Key, Suggestion] | None = None,
    preselect: bool = False,
) -> list[SentenceRow]:
    """Rows for the page or one fragment from already-fetched rows: no queries here.

    `suggestions` are the model's (see suggesting.py; hidden controls are not shown); with
    `preselect`, a layer without a label of the annotator's shows the suggestion pre-selected."""
    suggestions = suggestions or {}
    choices = schema.choices_by_id
    claim_of: dict[int, LabelChoice] = {}
    stance_of: dict[tuple[int, int], LabelChoice] = {}
    for annotation in annotations:
        choice = choices[annotation.choice_id]
        if annotation.target_id is None:
            claim_of[annotation.sentence_id] = choice
        else:
            stance_of[(annotation.sentence_id, annotation.target_id)] = choice
    note_of = {note.sentence_id: note for note in notes}
    others_of: dict[int, list[str]] = defaultdict(list)
    targets = schema.targets_by_id
    for annotation in others:
        where = f" on {targets[annotation.target_id]}" if annotation.target_id else ""
        others_of[annotation.sentence_id].append(
            f"{annotation.annotator.get_username()}: {choices[annotation.choice_id].name}{where}"
        )

    label_url = url_maker("annotator:sentence-label")
    note_url = url_maker("annotator:sentence-note")
    rows = []
    previous_paragraph = None
    for sentence in sentences:
        claim = claim_of.get(sentence.pk)
        claim_suggestion = _shown(suggestions.get((sentence.pk, Layer.CLAIM_TYPE, None)))
        stances = []
        for target in schema.targets:
            current = stance_of.get((sentence.pk, target.pk))
            suggestion = _shown(suggestions.get((sentence.pk, Layer.STANCE, target.pk)))
            proposed = _proposed(suggestion, current, preselect=preselect)
            buttons = [
                schema.button(
                    c,
                    target,
                    selected=current is not None and c.pk == current.pk,
                    preselected=c.pk == proposed,
                )
                for c in schema.stance_choices
            ]
            stances.append(TargetRow(target, buttons, current, suggestion))
        proposed_claim = _proposed(claim_suggestion, claim, preselect=preselect)
        complete = claim is not None and (
            not stance_required or all(s.current is not None for s in stances)
        )
        rows.append(
            SentenceRow(
                sentence=sentence,
                claim_buttons=[
                    schema.button(
                        c,
                        None,
                        selected=claim is not None and c.pk == claim.pk,
                        preselected=c.pk == proposed_claim,
                    )
                    for c in schema.claim_choices
                ],
                claim=claim,
                stances=stances,
                note=note_of.get(sentence.pk),
                complete=complete,
                new_paragraph=previous_paragraph is not None
                and sentence.paragraph != previous_paragraph,
                others=others_of.get(sentence.pk, []),
                hint=_hint(claim_suggestion, stances, choices),
                id=str(sentence.pk),
                number=str(sentence.ordinal + 1),
                label_url=label_url(sentence.pk),
                note_url=note_url(sentence.pk),
            )
        )
        previous_paragraph = sentence.paragraph
    return rows


def _shown(suggestion: Suggestion | None) -> Suggestion | None:
    """The suggestion if the annotator may see it (a hidden control is never drawn)."""
    return None if suggestion is None or suggestion.hidden else suggestion


def _proposed(
    suggestion: Suggestion | None, current: LabelChoice | None, *, preselect: bool
) -> int | None:
    """The choice id to draw pre-selected: the suggestion, while the layer has no label."""
    if not preselect or suggestion is None or current is not None:
        return None
    return suggestion.choice_id


def _hint(
    claim: Suggestion | None, stances: list[TargetRow], choices: dict[int, LabelChoice]
) -> str:
    """The row's suggestions in words, each named as the model's with its version and score."""
    parts = []
    if claim is not None:
        parts.append(_suggestion_words(claim, choices, "Claim type"))
    for stance in stances:
        if stance.suggestion is not None:
            parts.append(
                _suggestion_words(stance.suggestion, choices, f"Stance on {stance.target.name}")
            )
    return "; ".join(parts)


def _suggestion_words(suggestion: Suggestion, choices: dict[int, LabelChoice], unit: str) -> str:
    choice = choices.get(suggestion.choice_id)
    name = choice.name if choice is not None else "(a label no longer in the schema)"
    return f"{unit}: {name} ({suggestion.score:.2f}, model {suggestion.model_label})"


# What _articles_for annotates. Views name the type of get_object_or_404's result, whose stub
# drops the annotations.
class _MyArticle(TypedDict):
    role: str
    assignment_id: int | None
    assignment_status: str | None


def _articles_for(request: AuthenticatedRequest) -> QuerySet[WithAnnotations[Article, _MyArticle]]:
    """Articles of the user's corpora, with the user's role and assignment status attached."""
    user = request.user
    mine = Assignment.objects.filter(article=OuterRef("pk"), annotator=user)
    return (
        Article.objects.visible_to(user)
        .select_related("corpus")
        # Reuses the membership join of visible_to: the role of this user in this corpus.
        .annotate(
            role=F("corpus__memberships__role"),
            assignment_id=Subquery(mine.values("pk")[:1]),
            assignment_status=Subquery(mine.values("status")[:1]),
        )
    )


def _others(request: AuthenticatedRequest, state: LabellingState) -> list[Annotation]:
    """Other annotators' labels on the sentence, for the roles that see them (else none)."""
    if state.role not in SEES_ALL:
        return []
    return list(
        Annotation.objects.filter(sentence_id=state.sentence.pk)
        .exclude(annotator=request.user)
        .select_related("annotator")
    )


def _suggestions(state: LabellingState) -> dict[Key, Suggestion]:
    """The model's suggestions on the sentence (one query; none when the corpus shows
    annotators no suggestions)."""
    return suggestions_for(corpus=state.corpus, sentence_ids=[state.sentence.pk])


def _row_for(
    request: AuthenticatedRequest,
    state: LabellingState,
    schema: Schema,
    *,
    others: Iterable[Annotation] = (),
    suggestions: dict[Key, Suggestion] | None = None,
    can_label: bool = True,
) -> dict[str, object]:
    """Template context for one `_sentence_row.html` fragment, from what the request already
    holds: no queries, so a row can be drawn even when the connection is gone."""
    (row,) = build_rows(
        sentences=[state.sentence],
        schema=schema,
        stance_required=state.corpus.stance_required,
        annotations=state.annotations(),
        notes=[state.note] if state.note is not None else [],
        others=others,
        suggestions=suggestions,
        preselect=state.corpus.suggestions == SuggestionMode.PRESELECT,
    )
    return {"row": row, "can_label": can_label, "csrf_field": csrf_field(request)}


def csrf_field(request: AuthenticatedRequest) -> SafeString:
    """The CSRF hidden input, built once per page instead of once per form (600 forms on a
    300-sentence page); it keeps the no-JavaScript forms working."""
    return format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
    )


def _corpora_with_progress(request: AuthenticatedRequest, **filters: object) -> list[Corpus]:
    """The user's corpora (narrowed by `filters`) with their progress figures, in one query."""
    return list(Corpus.objects.with_progress(request.user).filter(**filters).order_by("name"))


# ---------------------------------------------------------------------------------------------
# Pages


@login_required
@require_GET
def home(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "annotator/home.html", {"corpora": _corpora_with_progress(request)})


@login_required
@require_GET
def corpus_detail(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    corpora = _corpora_with_progress(request, slug=slug)
    if not corpora:
        raise Http404("No such corpus among yours.")
    corpus = corpora[0]
    assignments = (
        Assignment.objects.filter(annotator=request.user, article__corpus=corpus)
        .select_related("article")
        .order_by("status", "-assigned_at")
    )
    context = {"corpus": corpus, "assignments": assignments, "is_manager": False}
    if corpus.role == Role.MANAGER:
        context["is_manager"] = True
        context["members"] = (
            Membership.objects.with_workload(corpus)
            .select_related("user")
            .order_by("role", "user__username")
        )
    return render(request, "annotator/corpus_detail.html", context)


@login_required
@require_POST
def corpus_next(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    corpus = get_object_or_404(Corpus.objects.for_user(request.user), slug=slug)
    assignment = next_assignment(corpus=corpus, annotator=request.user)
    if assignment is None:
        messages.info(request, "Nothing left for you here: every article has its annotators.")
        return redirect(corpus.get_absolute_url())
    return redirect(assignment.article.get_absolute_url())


@login_required
@require_GET
def article_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    article: WithAnnotations[Article, _MyArticle] = get_object_or_404(_articles_for(request), pk=pk)
    corpus = article.corpus
    schema = Schema.of(corpus)
    sentences = list(article.sentences.order_by("ordinal"))
    mine = Annotation.objects.filter(sentence__article=article, annotator=request.user)
    notes = SentenceNote.objects.filter(sentence__article=article, annotator=request.user)
    others = (
        Annotation.objects.filter(sentence__article=article)
        .exclude(annotator=request.user)
        .select_related("annotator")
        if article.role in SEES_ALL
        else ()
    )
    rows = build_rows(
        sentences=sentences,
        schema=schema,
        stance_required=corpus.stance_required,
        annotations=mine,
        notes=notes,
        others=others,
        # One query for the whole article (none when the corpus shows no suggestions).
        suggestions=suggestions_for(
            corpus=corpus,
            sentence_ids=[sentence.pk for sentence in sentences],
        ),
        preselect=corpus.suggestions == SuggestionMode.PRESELECT,
    )
    can_label = article.assignment_status in HOLDING_PLACE
    # After a refused "done", the page points out what is left (from rows already in memory).
    # Excluded sentences are drawn as greyed context; they count toward nothing.
    counted = [row for row in rows if not row.sentence.excluded]
    missing = [row for row in counted if not row.complete] if "missing" in request.GET else []
    for row in missing:
        row.missing = True
    corpus.role = article.role  # for the corpus links in the nav
    (corpus_with_progress,) = _corpora_with_progress(request, pk=corpus.pk)
    return render(
        request,
        "annotator/article_detail.html",
        {
            "article": article,
            "corpus": corpus,
            "schema": schema,
            "rows": rows,
            "can_label": can_label,
            "missing": missing,
            "article_progress": Progress(sum(row.complete for row in counted), len(counted)),
            "my_progress": corpus_with_progress.my_progress,
            "guidelines": render_guidelines(corpus.guidelines),
            "sees_all": article.role in SEES_ALL,
            "skip_form": SkipForm(),
            "csrf_field": csrf_field(request),
        },
    )


# ---------------------------------------------------------------------------------------------
# Writes: each answers htmx with the changed fragment and a plain POST with a redirect.


def _sentence_url(sentence: Sentence) -> str:
    return f"{sentence.article.get_absolute_url()}#s-{sentence.pk}"


def _state_or_404(request: AuthenticatedRequest, pk: int) -> LabellingState:
    state = labelling_state(annotator=request.user, sentence_id=pk)
    if state is None:
        raise Http404("No such sentence in your corpora.")
    return state


@login_required
@require_POST
def sentence_label(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    # Queries: the sentence with my labels and note (one), the schema (cached per version),
    # everyone's labels for reviewers, the model's suggestions when annotators see them, then
    # the save (one statement on PostgreSQL). Nothing is read after the save: once it is
    # stored, the answer must say so.
    state = _state_or_404(request, pk)
    schema = Schema.of(state.corpus)
    form = LabelForm(request.POST, choices=schema.choices_by_id, targets=schema.targets_by_id)
    others = _others(request, state)
    suggestions = _suggestions(state)
    if form.is_valid():
        choice, target = form.cleaned_data["label"]
        try:
            save_label(
                sentence=state.sentence,
                annotator=request.user,
                layer=choice.layer,
                target=target,
                choice=choice,
                seconds=form.cleaned_data["seconds"],
                # Decided here from the stored predictions, not sent by the page.
                suggestion=seen_for_save(
                    suggestions,
                    sentence_id=state.sentence.pk,
                    layer=choice.layer,
                    target_id=target.pk if target else None,
                ),
            )
        except LabellingRefused as refused:
            return _refused(request, state.sentence, str(refused))
        except LabelError as error:
            form.add_error("label", str(error))
        else:
            # Stored: the row is drawn from what the save knows, without reading it back.
            state.labels[(choice.layer, target.pk if target else None)] = choice.pk
            if not request.htmx:
                return redirect(_sentence_url(state.sentence))
            return _saved_row(request, state, schema, others, suggestions)
    return _not_saved(request, state, schema, others, suggestions, what="Label", form=form)


@login_required
@require_POST
def sentence_note(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    state = _state_or_404(request, pk)
    # Everything the row needs is read before the write (see sentence_label).
    schema = Schema.of(state.corpus)
    others = _others(request, state)
    suggestions = _suggestions(state)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            state.note = save_note(
                sentence=state.sentence,
                annotator=request.user,
                unsure=form.cleaned_data["unsure"],
                note=form.cleaned_data["note"],
            )
        except LabellingRefused as refused:
            return _refused(request, state.sentence, str(refused))
        if not request.htmx:
            return redirect(_sentence_url(state.sentence))
        return _saved_row(request, state, schema, others, suggestions)
    return _not_saved(request, state, schema, others, suggestions, what="Note", form=form)


def _not_saved(
    request: AuthenticatedRequest,
    state: LabellingState,
    schema: Schema,
    others: list[Annotation],
    suggestions: dict[Key, Suggestion],
    *,
    what: str,
    form: Form,
) -> HttpResponse:
    """A label or note form that did not validate: the row again with the error (htmx, 400),
    or back to the page with a message."""
    if not request.htmx:
        messages.error(request, f"{what} not saved: {form.errors.as_text()}")
        return redirect(_sentence_url(state.sentence))
    return render(
        request,
        "annotator/_sentence_row.html",
        _row_for(
            request,
            state,
            schema,
            others=others,
            suggestions=suggestions,
            can_label=_may_label(request, state),
        ),
        status=400,
    )


def _may_label(request: AuthenticatedRequest, state: LabellingState) -> bool:
    """Whether to draw the row's forms after a refused input (the rule's answer)."""
    return not labelling_refusals(annotator_id=request.user.pk, sentence_ids=[state.sentence.pk])


def _saved_row(
    request: AuthenticatedRequest,
    state: LabellingState,
    schema: Schema,
    others: list[Annotation],
    suggestions: dict[Key, Suggestion],
) -> HttpResponse:
    """The redrawn row after a stored change; a change that is stored answers success even if
    drawing the row fails (a 204 leaves the row as the browser shows it)."""
    try:
        return render(
            request,
            "annotator/_sentence_row.html",
            _row_for(request, state, schema, others=others, suggestions=suggestions),
        )
    except DatabaseError:
        response = HttpResponse(status=204)
        response["HX-Trigger"] = "label-saved"
        return response


def _refused(request: AuthenticatedRequest, sentence: Sentence, reason: str) -> HttpResponse:
    """The labelling rule's refusal: 403 with its reason for htmx, the reason as a message on
    the article page otherwise."""
    if request.htmx:
        return HttpResponseForbidden(reason)
    messages.error(request, reason)
    return redirect(_sentence_url(sentence))


@login_required
@require_POST
def article_undo(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    article: WithAnnotations[Article, _MyArticle] = get_object_or_404(_articles_for(request), pk=pk)
    try:
        changed = undo_last_change(article=article, annotator=request.user)
    except LabellingRefused as refused:
        if request.htmx:
            return HttpResponseForbidden(str(refused))
        raise PermissionDenied(str(refused)) from None
    if (
        changed is not None
        and article.assignment_status == AssignmentStatus.DONE
        and article.assignment_id is not None  # always, with a status
    ):
        assignment = Assignment.objects.select_related("article__corpus", "annotator").get(
            pk=article.assignment_id
        )
        if reopen_if_incomplete(assignment=assignment):
            messages.info(request, "The article is in progress again: a sentence lost its label.")
    if not request.htmx:
        if changed is None:
            messages.info(request, "Nothing to undo.")
            return redirect(article.get_absolute_url())
        return redirect(f"{article.get_absolute_url()}#s-{changed.pk}")
    if changed is None:
        return HttpResponse(status=204)
    state = _state_or_404(request, changed.pk)
    response = _saved_row(
        request,
        state,
        Schema.of(state.corpus),
        _others(request, state),
        _suggestions(state),
    )
    # The undone row is only known now, so the response names its own target.
    return reswap(retarget(response, f"#s-{changed.pk}"), "outerHTML")


@login_required
@require_POST
def article_finish(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    article: WithAnnotations[Article, _MyArticle] = get_object_or_404(_articles_for(request), pk=pk)
    assignment = get_object_or_404(
        Assignment.objects.filter(annotator=request.user).select_related("article__corpus"),
        pk=article.assignment_id or 0,
    )
    try:
        missing = finish_assignment(assignment=assignment)
    except AssignmentError as error:
        messages.error(request, str(error))
        return _go(request, article.get_absolute_url())
    if missing:
        ordinals = ", ".join(str(s.ordinal + 1) for s in missing[:20])
        more = "…" if len(missing) > 20 else ""
        messages.error(
            request,
            f"Not done yet: {len(missing)} sentence(s) still need labels "
            f"(sentence {ordinals}{more}).",
        )
        return _go(request, f"{article.get_absolute_url()}?missing=1#s-{missing[0].pk}")
    messages.success(request, f"Article “{article}” is done. Thank you!")
    return _go(request, article.corpus.get_absolute_url())


@login_required
@require_POST
def article_skip(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    article: WithAnnotations[Article, _MyArticle] = get_object_or_404(_articles_for(request), pk=pk)
    assignment = get_object_or_404(
        Assignment.objects.filter(annotator=request.user), pk=article.assignment_id or 0
    )
    form = SkipForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why you skip this article.")
        return _go(request, article.get_absolute_url())
    try:
        skip_assignment(assignment=assignment, reason=form.cleaned_data["reason"])
    except AssignmentError as error:
        messages.error(request, str(error))
        return _go(request, article.get_absolute_url())
    messages.info(request, f"Skipped “{article}”. It goes back to the pool.")
    return _go(request, article.corpus.get_absolute_url())


def _go(request: AuthenticatedRequest, url: str) -> HttpResponse:
    """Redirect, as htmx expects it when the request came from htmx."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)
