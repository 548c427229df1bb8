"""URL configuration: the web app under /, the REST API under /api/, the admin, and auth views.

Each area keeps its own block of patterns; every view behind them checks login and membership.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from annotator.api.docs import ApiDocsView, ApiSchemaView
from annotator.views import (
    console,
    curation,
    exports,
    imports,
    manage,
    releases,
    statistics,
    tokens,
    workspace,
)

# Annotation workspace (issue: annotation workspace).
workspace_patterns = [
    path("", workspace.home, name="home"),
    path("corpora/<slug:slug>/", workspace.corpus_detail, name="corpus-detail"),
    path("corpora/<slug:slug>/next/", workspace.corpus_next, name="corpus-next"),
    path("articles/<int:pk>/", workspace.article_detail, name="article-detail"),
    path("articles/<int:pk>/undo/", workspace.article_undo, name="article-undo"),
    path("articles/<int:pk>/finish/", workspace.article_finish, name="article-finish"),
    path("articles/<int:pk>/skip/", workspace.article_skip, name="article-skip"),
    path("sentences/<int:pk>/label/", workspace.sentence_label, name="sentence-label"),
    path("sentences/<int:pk>/note/", workspace.sentence_note, name="sentence-note"),
]

# Statistics and curation (issue: agreement statistics and adjudication).
statistics_patterns = [
    path(
        "corpora/<slug:slug>/statistics/",
        statistics.corpus_statistics_page,
        name="corpus-statistics",
    ),
    path(
        "corpora/<slug:slug>/statistics/train/",
        statistics.corpus_train_models,
        name="corpus-train-models",
    ),
    path(
        "corpora/<slug:slug>/predictions/import/",
        statistics.corpus_predictions_import,
        name="corpus-predictions-import",
    ),
    path(
        "corpora/<slug:slug>/statistics.json",
        statistics.corpus_statistics_json,
        name="corpus-statistics-json",
    ),
    path("corpora/<slug:slug>/curation/", curation.curation_queue, name="curation-queue"),
    path(
        "corpora/<slug:slug>/curation/sentences/<int:pk>/",
        curation.curation_sentence,
        name="curation-sentence",
    ),
    path(
        "corpora/<slug:slug>/curation/sentences/<int:pk>/settle/",
        curation.curation_settle,
        name="curation-settle",
    ),
    path(
        "corpora/<slug:slug>/curation/sentences/<int:pk>/confirm/",
        curation.curation_confirm,
        name="curation-confirm",
    ),
    path(
        "corpora/<slug:slug>/curation/accept-unanimous/",
        curation.curation_accept_unanimous,
        name="curation-accept-unanimous",
    ),
    path(
        "corpora/<slug:slug>/curation/prefill-majority/",
        curation.curation_prefill_majority,
        name="curation-prefill-majority",
    ),
]

# Personal API tokens in the web UI (issue: REST API).
token_patterns = [
    path("account/tokens/", tokens.token_list, name="token-list"),
    path("account/tokens/<int:pk>/revoke/", tokens.token_revoke, name="token-revoke"),
]

# Corpus settings for its managers (issue: corpus management): settings, members, schema.
management_patterns = [
    path("corpora/<slug:slug>/settings/", manage.corpus_settings, name="corpus-settings"),
    path("corpora/<slug:slug>/members/", manage.corpus_members, name="corpus-members"),
    path("corpora/<slug:slug>/members/add/", manage.member_add, name="corpus-member-add"),
    path("corpora/<slug:slug>/members/create/", manage.member_create, name="corpus-member-create"),
    path(
        "corpora/<slug:slug>/members/<int:pk>/role/",
        manage.member_role,
        name="corpus-member-role",
    ),
    path(
        "corpora/<slug:slug>/members/<int:pk>/remove/",
        manage.member_remove,
        name="corpus-member-remove",
    ),
    path("corpora/<slug:slug>/schema/", manage.corpus_schema, name="corpus-schema"),
    path("corpora/<slug:slug>/schema/add/", manage.choice_add, name="corpus-choice-add"),
    path("corpora/<slug:slug>/schema/<int:pk>/", manage.choice_edit, name="corpus-choice-edit"),
    path(
        "corpora/<slug:slug>/schema/<int:pk>/move/", manage.choice_move, name="corpus-choice-move"
    ),
    path(
        "corpora/<slug:slug>/schema/<int:pk>/delete/",
        manage.choice_delete,
        name="corpus-choice-delete",
    ),
    path("corpora/<slug:slug>/targets/", manage.corpus_targets, name="corpus-targets"),
    path("corpora/<slug:slug>/targets/add/", manage.target_add, name="corpus-target-add"),
    path("corpora/<slug:slug>/targets/<int:pk>/", manage.target_edit, name="corpus-target-edit"),
    path(
        "corpora/<slug:slug>/targets/<int:pk>/move/", manage.target_move, name="corpus-target-move"
    ),
    path(
        "corpora/<slug:slug>/targets/<int:pk>/delete/",
        manage.target_delete,
        name="corpus-target-delete",
    ),
]

# Dataset releases (issue 14): list and cut, one release, its files, diffs between two.
release_patterns = [
    path("corpora/<slug:slug>/releases/", releases.release_list, name="release-list"),
    path("corpora/<slug:slug>/releases/diff/", releases.release_diff_page, name="release-diff"),
    path(
        "corpora/<slug:slug>/releases/<int:number>/",
        releases.release_detail,
        name="release-detail",
    ),
    path(
        "corpora/<slug:slug>/releases/<int:number>/files/<path:name>",
        releases.release_file,
        name="release-file",
    ),
]

# The managers' console (issue: manager console): the articles table (managers and curators),
# assignment at scale and throughput (managers).
console_patterns = [
    path("corpora/<slug:slug>/articles/", console.article_table, name="corpus-articles"),
    path(
        "corpora/<slug:slug>/articles/refresh/",
        console.article_table_refresh,
        name="corpus-articles-refresh",
    ),
    path("corpora/<slug:slug>/assign/", console.corpus_assign, name="corpus-assign"),
    path("corpora/<slug:slug>/throughput/", console.corpus_throughput, name="corpus-throughput"),
]

# Moving data in and out (issue: manager console): imports for managers, exports for managers
# and curators.
transfer_patterns = [
    path("corpora/<slug:slug>/import/", imports.corpus_import, name="corpus-import"),
    path("corpora/<slug:slug>/import/<int:pk>/", imports.import_job, name="corpus-import-job"),
    path(
        "corpora/<slug:slug>/import/<int:pk>/retry/",
        imports.import_job_retry,
        name="corpus-import-retry",
    ),
    path("corpora/<slug:slug>/export/", exports.corpus_export, name="corpus-export"),
    path(
        "corpora/<slug:slug>/export/download/",
        exports.corpus_export_download,
        name="corpus-export-download",
    ),
]

urlpatterns = [
    path(
        "",
        include(
            (
                workspace_patterns
                + statistics_patterns
                + token_patterns
                + management_patterns
                + release_patterns
                + console_patterns
                + transfer_patterns,
                "annotator",
            )
        ),
    ),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # REST API (issue: REST API and dataset export): versioned resources, schema and docs.
    path("api/v1/", include("annotator.api.urls")),
    # Schema and docs: signed-in people only (a token or the session).
    path("api/schema/", ApiSchemaView.as_view(), name="api-schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
]

# Production serving (issue: hardening): a lost database answers 503, not 500, even when the
# error is raised outside a view.
handler400 = "annotator.middleware.bad_request"
handler500 = "annotator.middleware.server_error"
