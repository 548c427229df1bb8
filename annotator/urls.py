"""URL configuration: the web app under /, the REST API under /api/, the admin, and auth views.

Each area keeps its own block of patterns; every view behind them checks login and membership.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from annotator.views import workspace

# Annotation workspace (issue: annotation workspace).
workspace_patterns = [
    path("", workspace.home, name="home"),
    path("corpora/<slug:slug>/", workspace.corpus_detail, name="corpus-detail"),
    path("articles/<int:pk>/", workspace.article_detail, name="article-detail"),
]

# Statistics and curation (issue: agreement statistics and adjudication).
statistics_patterns: list = []

# Personal API tokens in the web UI (issue: REST API).
token_patterns: list = []

urlpatterns = [
    path("", include((workspace_patterns + statistics_patterns + token_patterns, "annotator"))),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
