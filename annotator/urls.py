"""URL configuration: the web app under /, the admin, and auth views."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from annotator import views

annotator_patterns = [
    path("", views.home, name="home"),
    path("corpora/<slug:slug>/", views.corpus_detail, name="corpus-detail"),
    path("articles/<int:pk>/", views.article_detail, name="article-detail"),
]

urlpatterns = [
    path("", include((annotator_patterns, "annotator"))),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
