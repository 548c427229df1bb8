"""A manager trains the baseline models from the statistics page and imports another model's
predictions, fixing the line the page reports."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from annotator.models import ModelStatus, ModelVersion, Prediction, Role
from tests.assist_corpus import load_generated
from tests.browser.conftest import login
from tests.claim_corpus import generate_corpus


def test_manager_trains_models_and_imports_predictions(
    browser_page, live_server, make_corpus, make_member, tmp_path: Path
):
    corpus = make_corpus(name="Korea coverage", slug="korea")
    manager = make_member(corpus=corpus, role=Role.MANAGER, username="manager")
    labeller = make_member(corpus=corpus)
    ids = load_generated(corpus, generate_corpus(n_articles=15, seed=2), annotators=[labeller])
    page = browser_page
    login(page, live_server, manager)

    page.goto(f"{live_server.url}/corpora/korea/statistics/")
    claim = page.locator("#layer-0 .model")
    expect(claim).to_contain_text("No model yet.")
    page.get_by_role("button", name="Train new models now").click()
    # Tests run tasks at once: the page comes back with the scores.
    expect(page.locator(".messages")).to_contain_text("Training 2 models in the background")
    expect(page.locator("#layer-0 .model-scores")).to_contain_text("Macro-F1")
    expect(page.locator("#layer-0 .model svg")).to_have_count(1)
    assert ModelVersion.objects.get(layer="claim_type").status == ModelStatus.DONE

    page.get_by_role("link", name="Import another model's predictions (JSONL)").click()
    line = (
        f'{{"sentence": {ids[0]}, "layer": "claim_type", "label": "opinion", "score": 0.8, '
        '"model": "bert", "model_version": "1"}'
    )
    bad = tmp_path / "predictions.jsonl"
    bad.write_text(line.replace("0.8", "8") + "\n")
    page.set_input_files("#id_file", str(bad))
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".problems")).to_contain_text("score")
    good = tmp_path / "fixed.jsonl"
    good.write_text(line + "\n")
    page.set_input_files("#id_file", str(good))
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".messages")).to_contain_text("Stored 1 new prediction(s)")
    assert Prediction.objects.filter(model_version__name="bert").count() == 1
