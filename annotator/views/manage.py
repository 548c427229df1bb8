"""A corpus manager's settings pages: corpus settings, members, label schema, stance targets.

Only managers of the corpus reach them; everyone else, curators and annotators included, gets
404 (the corpus is looked up through `Corpus.objects.with_role(user, Role.MANAGERS)`). Every form
is a plain POST that redirects back with a message, so the pages work without JavaScript; the
writes, and the rules that may refuse them, live in corpora.py.
"""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, QuerySet
from django.forms import BaseForm
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from annotator.corpora import (
    ManagementError,
    add_member,
    change_role,
    create_member_account,
    delete_choice,
    delete_target,
    move_in_order,
    remove_member,
    save_choice,
    save_target,
)
from annotator.guidelines import render_guidelines
from annotator.manage_forms import (
    AddMemberForm,
    ChoiceForm,
    CorpusSettingsForm,
    CreateAccountForm,
    RoleForm,
    TargetForm,
)
from annotator.models import (
    Annotation,
    Corpus,
    GoldLabel,
    LabelChoice,
    Layer,
    Membership,
    Role,
    count_of,
)
from annotator.request_types import AuthenticatedRequest

MOVES = {"up": -1, "down": 1}


def _managed_corpus(request: AuthenticatedRequest, slug: str) -> Corpus:
    # `role` comes with the corpus, for the corpus menu in the page header.
    return get_object_or_404(Corpus.objects.with_role(request.user, Role.MANAGERS), slug=slug)


def _form_error(form: BaseForm, refused: ManagementError) -> None:
    """A refusal from corpora.py, shown on the field it is about when the form has it."""
    form.add_error(refused.field if refused.field in form.fields else None, str(refused))


# ---------------------------------------------------------------------------------------------
# Settings


@login_required
@require_http_methods(["GET", "POST"])
def corpus_settings(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    corpus = _managed_corpus(request, slug)
    previous_per_article = corpus.annotators_per_article
    # A copy: an invalid form must not rename the corpus in the page's own header.
    form = CorpusSettingsForm(request.POST or None, instance=copy.copy(corpus))
    preview = render_guidelines(corpus.guidelines)
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            # Shown, not saved: the manager checks the Markdown before annotators see it.
            preview = render_guidelines(form.cleaned_data["guidelines"])
            messages.info(request, "Preview only: press Save to keep these settings.")
        else:
            corpus = form.save()
            messages.success(request, "Settings saved.")
            _explain_fewer_annotators(request, corpus, previous_per_article)
            return redirect("annotator:corpus-settings", slug=corpus.slug)
    return render(
        request,
        "annotator/manage_settings.html",
        {"corpus": corpus, "form": form, "preview": preview, "section": "settings"},
        status=400 if form.errors else 200,
    )


def _explain_fewer_annotators(request: AuthenticatedRequest, corpus: Corpus, previous: int) -> None:
    if corpus.annotators_per_article >= previous:
        return
    over = (
        # mypy misses annotations made by a QuerySet method (django-stubs#2917).
        corpus.articles.with_places_taken()  # type: ignore[misc]
        .filter(places_taken__gt=corpus.annotators_per_article)
        .count()
    )
    if over:
        messages.warning(
            request,
            f"{over} article(s) already have more than {corpus.annotators_per_article} "
            "annotator(s). They keep them and their labels; no new annotator is given those "
            "articles, and progress counts only the new number.",
        )


# ---------------------------------------------------------------------------------------------
# Members


def _members(corpus: Corpus) -> QuerySet[Membership]:
    """Members with their articles in progress, done and skipped and their label count, in one
    query."""
    return (
        Membership.objects.with_workload(corpus)
        .with_label_counts(corpus)
        .select_related("user")
        .order_by("role", "user__username")
    )


def _members_page(
    request: AuthenticatedRequest,
    corpus: Corpus,
    *,
    add_form: AddMemberForm | None = None,
    create_form: CreateAccountForm | None = None,
    created: tuple[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "annotator/manage_members.html",
        {
            "corpus": corpus,
            "section": "members",
            "members": _members(corpus),
            "roles": Role.choices,
            "add_form": add_form or AddMemberForm(corpus=corpus),
            "create_form": create_form or CreateAccountForm(),
            "created": created,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET"])
def corpus_members(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    return _members_page(request, _managed_corpus(request, slug))


@login_required
@require_POST
def member_add(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    corpus = _managed_corpus(request, slug)
    form = AddMemberForm(request.POST, corpus=corpus)
    if form.is_valid():
        user, role = form.cleaned_data["username"], form.cleaned_data["role"]
        try:
            add_member(corpus=corpus, user=user, role=role)
        except ManagementError as refused:
            messages.error(request, str(refused))
        else:
            messages.success(
                request, f"{user.get_username()} joined as {Role(role).label.lower()}."
            )
        return redirect("annotator:corpus-members", slug=corpus.slug)
    return _members_page(request, corpus, add_form=form, status=400)


@never_cache
@login_required
@require_POST
def member_create(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    corpus = _managed_corpus(request, slug)
    form = CreateAccountForm(request.POST)
    if not form.is_valid():
        return _members_page(request, corpus, create_form=form, status=400)
    try:
        user, password = create_member_account(
            corpus=corpus,
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
        )
    except ManagementError as refused:
        _form_error(form, refused)
        return _members_page(request, corpus, create_form=form, status=400)
    # The password is rendered into this response only (no redirect, no session): only its
    # hash is stored, so it can never be shown again.
    return _members_page(request, corpus, created=(user.get_username(), password))


@login_required
@require_POST
def member_role(request: AuthenticatedRequest, slug: str, pk: int) -> HttpResponse:
    corpus = _managed_corpus(request, slug)
    membership = get_object_or_404(corpus.memberships.select_related("user"), pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick one of the roles: manager, curator or annotator.")
        return redirect("annotator:corpus-members", slug=corpus.slug)
    try:
        change_role(membership=membership, role=form.cleaned_data["role"])
    except ManagementError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request,
            f"{membership.user.get_username()} is now {membership.get_role_display().lower()}.",
        )
    return redirect("annotator:corpus-members", slug=corpus.slug)


@login_required
@require_POST
def member_remove(request: AuthenticatedRequest, slug: str, pk: int) -> HttpResponse:
    corpus = _managed_corpus(request, slug)
    membership = get_object_or_404(corpus.memberships.select_related("user"), pk=pk)
    who = membership.user.get_username()
    try:
        released = remove_member(membership=membership)
    except ManagementError as refused:
        messages.error(request, str(refused))
    else:
        note = f" {released} article(s) in progress went back to the pool." if released else ""
        messages.success(request, f"{who} was removed; their labels stay.{note}")
    return redirect("annotator:corpus-members", slug=corpus.slug)


# ---------------------------------------------------------------------------------------------
# Label schema


def _choices(corpus: Corpus) -> list[LabelChoice]:
    return list(
        corpus.choices.annotate(
            annotation_count=count_of(Annotation.objects.filter(choice=OuterRef("pk"))),
            gold_count=count_of(GoldLabel.objects.filter(choice=OuterRef("pk"))),
        ).order_by("layer", "order", "pk")
    )


def _schema_page(
    request: AuthenticatedRequest,
    corpus: Corpus,
    *,
    forms: dict[str, ChoiceForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    choices = _choices(corpus)
    forms = forms or {}
    layers = [
        {
            "value": layer.value,
            "label": layer.label,
            "choices": [c for c in choices if c.layer == layer],
            "form": forms.get(layer) or ChoiceForm(corpus=corpus, layer=layer, prefix=layer),
        }
        for layer in Layer
    ]
    return render(
        request,
        "annotator/manage_schema.html",
        {"corpus": corpus, "section": "schema", "layers": layers},
        status=status,
    )


@login_required
@require_http_methods(["GET"])
def corpus_schema(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    return _schema_page(request, _managed_corpus(request, slug))


@login_required
@require_POST
def choice_add(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    corpus = _managed_corpus(request, slug)
    layer = request.POST.get("layer", "")
    if layer not in Layer.values:
        messages.error(request, "Pick a layer: claim type or stance.")
        return redirect("annotator:corpus-schema", slug=corpus.slug)
    form = ChoiceForm(request.POST, corpus=corpus, layer=layer, prefix=layer)
    if form.is_valid():
        try:
            choice = save_choice(choice=form.instance)
        except ManagementError as refused:
            _form_error(form, refused)
        else:
            messages.success(request, f"Added “{choice.name}” to {choice.get_layer_display()}.")
            return redirect("annotator:corpus-schema", slug=corpus.slug)
    return _schema_page(request, corpus, forms={layer: form}, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def choice_edit(request: AuthenticatedRequest, slug: str, pk: int) -> HttpResponse:
    corpus = _managed_corpus(request, slug)
    choice = get_object_or_404(corpus.choices, pk=pk)
    form = ChoiceForm(
        request.POST or None, instance=copy.copy(choice), corpus=corpus, layer=choice.layer
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = save_choice(choice=form.instance)
        except ManagementError as refused:
            _form_error(form, refused)
        else:
            messages.success(request, f"Saved “{saved.name}”.")
            return redirect("annotator:corpus-schema", slug=corpus.slug)
    return render(
        request,
        "annotator/manage_choice_edit.html",
        {"corpus": corpus, "section": "schema", "form": form, "choice": choice},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def choice_move(request: AuthenticatedRequest, slug: str, pk: int) -> HttpResponse:
    corpus = _managed_corpus(request, slug)
    choice = get_object_or_404(corpus.choices, pk=pk)
    step = MOVES.get(request.POST.get("direction", ""))
    if step is not None:
        move_in_order(item=choice, step=step)
    return redirect("annotator:corpus-schema", slug=corpus.slug)


@login_required
@require_POST
def choice_delete(request: AuthenticatedRequest, slug: str, pk: int) -> HttpResponse:
    corpus = _managed_corpus(request, slug)
    choice = get_object_or_404(corpus.choices, pk=pk)
    try:
        delete_choice(choice=choice)
    except ManagementError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Deleted “{choice.name}”.")
    return redirect("annotator:corpus-schema", slug=corpus.slug)


# ---------------------------------------------------------------------------------------------
# Stance targets


def _targets_page(
    request: AuthenticatedRequest,
    corpus: Corpus,
    *,
    form: TargetForm | None = None,
    status: int = 200,
) -> HttpResponse:
    targets = corpus.stance_targets.annotate(
        annotation_count=count_of(Annotation.objects.filter(target=OuterRef("pk"))),
        gold_count=count_of(GoldLabel.objects.filter(target=OuterRef("pk"))),
    ).order_by("order", "pk")
    return render(
        request,
        "annotator/manage_targets.html",
        {
            "corpus": corpus,
            "section": "targets",
            "targets": targets,
            "form": form or TargetForm(corpus=corpus),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET"])
def corpus_targets(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    return _targets_page(request, _managed_corpus(request, slug))


@login_required
@require_POST
def target_add(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    corpus = _managed_corpus(request, slug)
    form = TargetForm(request.POST, corpus=corpus)
    if form.is_valid():
        try:
            target = save_target(target=form.instance)
        except ManagementError as refused:
            _form_error(form, refused)
        else:
            messages.success(request, f"Added the stance target “{target.name}”.")
            return redirect("annotator:corpus-targets", slug=corpus.slug)
    return _targets_page(request, corpus, form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def target_edit(request: AuthenticatedRequest, slug: str, pk: int) -> HttpResponse:
    corpus = _managed_corpus(request, slug)
    target = get_object_or_404(corpus.stance_targets, pk=pk)
    form = TargetForm(request.POST or None, instance=copy.copy(target), corpus=corpus)
    if request.method == "POST" and form.is_valid():
        try:
            saved = save_target(target=form.instance)
        except ManagementError as refused:
            _form_error(form, refused)
        else:
            messages.success(request, f"Saved the stance target “{saved.name}”.")
            return redirect("annotator:corpus-targets", slug=corpus.slug)
    return render(
        request,
        "annotator/manage_target_edit.html",
        {"corpus": corpus, "section": "targets", "form": form, "target": target},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def target_move(request: AuthenticatedRequest, slug: str, pk: int) -> HttpResponse:
    corpus = _managed_corpus(request, slug)
    target = get_object_or_404(corpus.stance_targets, pk=pk)
    step = MOVES.get(request.POST.get("direction", ""))
    if step is not None:
        move_in_order(item=target, step=step)
    return redirect("annotator:corpus-targets", slug=corpus.slug)


@login_required
@require_POST
def target_delete(request: AuthenticatedRequest, slug: str, pk: int) -> HttpResponse:
    corpus = _managed_corpus(request, slug)
    target = get_object_or_404(corpus.stance_targets, pk=pk)
    try:
        delete_target(target=target)
    except ManagementError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Deleted the stance target “{target.name}”.")
    return redirect("annotator:corpus-targets", slug=corpus.slug)
