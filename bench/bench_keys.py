"""Benchmark of labelling by key in a real browser: how soon a key shows, and how soon the row is
back from the server.

Creates a fresh database `annotator_bench_keys` on the server of `DATABASE_URL` (migrated here,
dropped afterwards), a corpus with one stance target and a 25-sentence article assigned to an
annotator; serves the app with Django's threaded live server (DEBUG off) and drives Debian's
Chromium with Playwright. Each sample is one key on the focused sentence, timed inside the page
from the keydown event to
- "shown": the first frame painted after the pressed choice became selected;
- "saved": the row from the server swapped in (the request, the save and the redraw).
Keys are pressed one after another, each once the previous one is saved, so saves do not queue.

Run: `.venv/bin/python bench/bench_keys.py [--keys 200]` (needs `apt-get install chromium`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch_db import database_urls, plain_static_files, production_environment, recreate_database  # noqa: E402

SENTENCES = 25
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

# Installed in the page (Playwright evaluates it, so the page's CSP does not apply): records,
# per key, when it was pressed, the frame after its choice showed, and when the row came back.
PROBE = """() => {
  window.__samples = [];
  document.addEventListener("keydown", () => {
    const row = document.querySelector(".sentence-row.is-focused");
    const sample = { pressed: performance.now(), shown: null, saved: null };
    window.__samples.push(sample);
    const id = row.id;
    const watch = new MutationObserver(() => {
      const now = document.getElementById(id);
      if (sample.shown === null && now.querySelector("button.choice.selected")) {
        sample.shown = -1;  // selected now; the paint is the next frame
        requestAnimationFrame(() => requestAnimationFrame(() => {
          sample.shown = performance.now();
        }));
      }
      if (now !== row && !now.dataset.saveState) {
        sample.saved = performance.now();
        watch.disconnect();
      }
    });
    watch.observe(document.getElementById("sentences"), {
      subtree: true, childList: true, attributes: true, attributeFilter: ["class"],
    });
  }, true);
}"""


def report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(
        f"{name:<44} n={len(samples):>4}  median {statistics.median(samples):7.1f} ms"
        f"  p95 {p95:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=200, help="keys to time (default 200)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"bench_keys: skipped, no Chromium at {CHROMIUM} (apt-get install chromium)")
        return

    name, bench_url, maintenance_url = database_urls("keys")
    production_environment(
        bench_url,
        allowed_hosts="127.0.0.1,localhost",
        # Playwright's sync API runs an event loop in this thread; the ORM calls made here
        # between its calls are still synchronous and safe.
        DJANGO_ALLOW_ASYNC_UNSAFE="true",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        AXES_ENABLED="0",
    )
    recreate_database(maintenance_url, name)
    try:
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        recreate_database(maintenance_url, name, drop_only=True)


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.management import call_command
    from django.test.testcases import LiveServerThread
    from playwright.sync_api import expect, sync_playwright

    from annotator.models import (
        Annotation,
        Assignment,
        Corpus,
        Membership,
        Role,
        StanceTarget,
    )
    from tests.factories import create_article

    plain_static_files()
    call_command("migrate", verbosity=0)
    corpus = Corpus.objects.create(name="Bench", slug="bench", stance_required=True)
    corpus.ensure_default_schema()
    StanceTarget.objects.create(corpus=corpus, name="Alliance", order=0)
    text = " ".join(f"Officials said on day {n} that talks would go on." for n in range(SENTENCES))
    article = create_article(corpus=corpus, text=text, title="Bench")
    assert article.sentences.count() == SENTENCES
    user = get_user_model().objects.create_user("bench-keys", password="bench-keys-pw")
    Membership.objects.create(user=user, corpus=corpus, role=Role.ANNOTATOR)
    Assignment.objects.create(article=article, annotator=user)

    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base = f"http://127.0.0.1:{server.port}"
    print(f"Article of {SENTENCES} sentences, stance required, one target; server {base}")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/accounts/login/")
            page.fill("#id_username", "bench-keys")
            page.fill("#id_password", "bench-keys-pw")
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            # A claim type, then a stance: each pair fills a row and moves the focus on. Each
            # pass over the article starts on an unlabelled copy, so every key is a new label.
            samples: list[dict[str, float]] = []
            for n in range(args.keys):
                if n % (2 * SENTENCES) == 0:
                    if n:
                        samples += page.evaluate("window.__samples")
                    Annotation.objects.filter(annotator=user).delete()
                    page.goto(f"{base}{article.get_absolute_url()}")
                    page.evaluate(PROBE)
                page.keyboard.press(("1", "f")[n % 2])
                expect(page.locator("[data-save-state]")).to_have_count(0)
                page.wait_for_function(
                    "() => window.__samples.at(-1).saved !== null"
                    " && window.__samples.at(-1).shown > 0"
                )
            samples += page.evaluate("window.__samples")
            browser.close()
    finally:
        server.terminate()
    report("key -> choice shown (next frame painted)", [s["shown"] - s["pressed"] for s in samples])
    report("key -> row back from the server", [s["saved"] - s["pressed"] for s in samples])


if __name__ == "__main__":
    main()
