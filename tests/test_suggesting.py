"""Which prediction is "the suggestion": the newest finished model version's, per sentence, layer
and target, read the same way on PostgreSQL (DISTINCT ON) and elsewhere (first row per unit)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from annotator import uncertainty
from annotator.models import Layer, ModelStatus, Prediction
from annotator.suggesting import newest_predictions
from tests.assist_data import model_version, predict


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_newest_finished_version_wins_per_unit(corpus, make_article, monkeypatch, vendor):
    if vendor != "postgresql":
        # The other databases' path, run on this one: same ordered rows, first per unit kept.
        monkeypatch.setattr(uncertainty, "connection", SimpleNamespace(vendor=vendor))
    first, second = make_article(corpus=corpus).sentences.order_by("ordinal")[:2]
    target = corpus.stance_targets.get()
    old = model_version(corpus, name="old")
    new = model_version(corpus, name="new")
    failed = model_version(corpus, name="failed", status=ModelStatus.FAILED)
    stance = model_version(corpus, layer=Layer.STANCE, target=target, name="stance")
    predict(old, first, "factual_claim")
    predict(new, first, "opinion")
    predict(failed, first, "not_a_claim")
    predict(old, second, "user_comment")
    predict(stance, first, "favor")

    found = newest_predictions([first.pk, second.pk])

    assert {key: s.model_name for key, s in found.items()} == {
        (first.pk, Layer.CLAIM_TYPE, None): "new",
        (second.pk, Layer.CLAIM_TYPE, None): "old",
        (first.pk, Layer.STANCE, target.pk): "stance",
    }
    assert Prediction.objects.count() == 5
    assert newest_predictions([]) == {}
