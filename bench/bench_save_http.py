"""Benchmark of a label save through gunicorn on PostgreSQL, over one keep-alive connection.

Creates a fresh database (`<DATABASE_URL's name>_bench_http`, dropped afterwards), a corpus
with two stance targets and a 50-sentence article assigned to one annotator, collects static
files, and starts gunicorn with gunicorn.conf.py as `make serve` does (DEBUG off, a random
SECRET_KEY; plain HTTP on loopback). Then a keep-alive HTTP client (one connection, as a browser
tab holds) sends the htmx label saves the workspace sends, one after the other, each a real
change with its history row, interleaved with anonymous GETs of the login page (the floor) on a
second connection. Prints p50/p90/p99 of each in milliseconds, measured at the client.

Issue 10's target: a save at most half of doccano's 18 ms p50 on the same machine, <= 9 ms.

Run: `.venv/bin/python bench/bench_save_http.py [--saves 500]`.
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch_db import database_urls, recreate_database  # noqa: E402

BIN = Path(sys.executable).parent
SENTENCES = 50
DOCCANO_P50_MS = 18.0


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(name: str, samples: list[float]) -> None:
    print(
        f"{name:<44} n={len(samples):>4}  p50 {statistics.median(samples):6.2f} ms"
        f"  p90 {percentile(samples, 0.9):6.2f} ms  p99 {percentile(samples, 0.99):6.2f} ms"
    )


def seed() -> tuple[str, list[tuple[int, int]]]:
    """The corpus, article and annotator; returns (session cookie, [(sentence, choice)])."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from annotator.models import (
        Assignment,
        Corpus,
        Layer,
        Membership,
        Role,
        StanceTarget,
    )
    from tests.factories import create_article

    corpus = Corpus.objects.create(name="Bench", slug="bench")
    corpus.ensure_default_schema()
    for order, name in enumerate(("Sanctions", "Alliance")):
        StanceTarget.objects.create(corpus=corpus, name=name, order=order)
    text = " ".join(
        f"Officials said on day {n} that talks about sanctions would continue."
        for n in range(SENTENCES)
    )
    article = create_article(corpus=corpus, text=text, external_id="bench.txt")
    user = get_user_model().objects.create_user("bench-annotator")
    Membership.objects.create(user=user, corpus=corpus, role=Role.ANNOTATOR)
    Assignment.objects.create(article=article, annotator=user)
    client = Client()
    client.force_login(user)
    sentences = list(article.sentences.order_by("ordinal").values_list("pk", flat=True))
    claims = list(
        corpus.choices.filter(layer=Layer.CLAIM_TYPE).order_by("order").values_list("pk", flat=True)
    )
    # Each pass over the article changes every label, so every save writes a history row.
    plan = [
        (sentences[n % len(sentences)], claims[(n // len(sentences)) % len(claims)])
        for n in range(10_000)
    ]
    return client.cookies["sessionid"].value, plan


def wait_until_up(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {server.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/accounts/login/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer within 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=500)
    parser.add_argument("--warm-up", type=int, default=100)
    args = parser.parse_args()

    name, bench_url, maintenance_url = database_urls("http")
    static_root = tempfile.mkdtemp(prefix="annotator-bench-static-")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "annotator.settings",
            "DATABASE_URL": bench_url,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            # Plain HTTP on loopback: no redirect to HTTPS, cookies without the Secure flag.
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "STATIC_ROOT": static_root,
            "LOG_LEVEL": "WARNING",
            "GUNICORN_LOG_LEVEL": "warning",
        }
    )
    recreate_database(maintenance_url, name)
    server = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        session, plan = seed()
        connections.close_all()

        port = free_port()
        log = Path(static_root) / "gunicorn.log"
        with log.open("w") as out:
            server = subprocess.Popen(
                [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "annotator.wsgi"],
                cwd=ROOT,
                env={**os.environ, "PORT": str(port)},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_until_up(port, server)
        run(port, session, plan, args)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        recreate_database(maintenance_url, name, drop_only=True)
        shutil.rmtree(static_root, ignore_errors=True)


def run(port: int, session: str, plan: list[tuple[int, int]], args: argparse.Namespace) -> None:
    csrf = secrets.token_hex(16)  # a CSRF secret of our own: cookie and header agree
    headers = {
        "Cookie": f"sessionid={session}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
        "HX-Request": "true",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    saving = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    anonymous = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def save(n: int) -> float:
        sentence, choice = plan[n]
        body = urlencode({"label": choice, "seconds": "3.2"})
        start = time.perf_counter()
        saving.request("POST", f"/sentences/{sentence}/label/", body=body, headers=headers)
        response = saving.getresponse()
        content = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        if response.status != 200 or b"sentence-row" not in content:
            raise SystemExit(f"save answered {response.status}: {content[:300]!r}")
        return elapsed

    def floor() -> float:
        start = time.perf_counter()
        anonymous.request("GET", "/accounts/login/")
        response = anonymous.getresponse()
        response.read()
        elapsed = (time.perf_counter() - start) * 1000
        if response.status != 200:
            raise SystemExit(f"login page answered {response.status}")
        return elapsed

    for n in range(args.warm_up):
        save(n)
        floor()
    saves, floors = [], []
    for n in range(args.warm_up, args.warm_up + args.saves):
        saves.append(save(n))
        floors.append(floor())
    print("gunicorn (gunicorn.conf.py) on 127.0.0.1, PostgreSQL; one keep-alive connection each")
    report("floor: anonymous GET /accounts/login/", floors)
    report("label save (htmx POST, one row back)", saves)
    target = DOCCANO_P50_MS / 2
    verdict = "met" if statistics.median(saves) <= target else "NOT met"
    print(f"target: save p50 <= {target:.0f} ms (half of doccano's p50): {verdict}")


if __name__ == "__main__":
    main()
