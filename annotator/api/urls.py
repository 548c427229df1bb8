"""API routes under /api/v1/: one DefaultRouter, explicit basenames."""

from __future__ import annotations

from django.urls import re_path
from rest_framework.routers import DefaultRouter

from annotator.api import releases, views

router = DefaultRouter()
# No `.json` suffix routes: JSON is the only rendering, and `format` is the export's parameter.
router.include_format_suffixes = False
router.register("corpora", views.CorpusViewSet, basename="corpus")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("articles", views.ArticleViewSet, basename="article")
router.register("sentences", views.SentenceViewSet, basename="sentence")
router.register("annotations", views.AnnotationViewSet, basename="annotation")
router.register("gold-labels", views.GoldLabelViewSet, basename="gold-label")
router.register("predictions", views.PredictionViewSet, basename="prediction")
# Dataset releases (issue 14), under their corpus.
router.register(
    r"corpora/(?P<slug>[-a-zA-Z0-9_]+)/releases", releases.ReleaseViewSet, basename="release"
)

urlpatterns = [
    *router.urls,
    # Last: any other address under /api/v1/ answers a JSON 404 in the API's error format
    # (newlines included: a decoded %0A would otherwise fall through to the HTML 404 page).
    re_path(r"^(?P<path>[\s\S]*)$", views.api_not_found),
]
