"""Load test: Locust annotators against gunicorn on loopback, then a reconciliation of every label.

One run: (re)creates a scratch database on the server of `DATABASE_URL` (`--database`, default
the name in DATABASE_URL with `_load` appended),
migrates it, imports a corpus of news-like articles built from `samples/` (sentences reshuffled
into new articles), creates the annotator accounts with random passwords (written to a private
file in the run's folder), collects static files and starts gunicorn as `make serve` does
(DEBUG off, a random SECRET_KEY; only HTTPS redirects and secure cookies are off, since loopback
is plain HTTP) on `--port` (default: a free one), then runs Locust headless
(bench/load/locustfile.py) for the given time. Then it stops gunicorn and checks:

- no server errors (5xx or dropped connections) in any request;
- reconciliation: every acknowledged label save is in the database exactly once with the last
  acknowledged value for its (sentence, annotator, layer, target); a save that was cut off without
  an answer may or may not be there, and no label exists that was never sent;
- latency targets: label save p95 ≤ 100 ms and p99 ≤ 250 ms, pages (corpus page, next, article
  page) p95 ≤ 300 ms;

and prints p50/p95/p99 per request type with PASS/FAIL. `--with-background` also runs, during the
load, an import of a generated batch of 1,500 articles (`manage.py import_corpus`, niced and
paced with `--duty-cycle` at the site's IMPORT_DUTY_CYCLE, into a second corpus) and an export of
the annotated corpus, each repeated back to back until the end, and checks that no p95 more than
doubles against a plain run (run first, or read from `--baseline` summary.json). The export is
chosen with `--background-export`:

- `api` (default): a full JSONL export through the API, made live by the web process (paced by
  EXPORT_DUTY_CYCLE and EXPORT_NICENESS as the environment sets them);
- `release`: at setup, one dataset release of the load corpus is cut and built through the app's
  own code (`releases.building`, every sentence included so it is as big as the live export),
  and every file of it is then downloaded through the API's release download URL, back to back:
  the bytes stream from the release storage, nothing is computed.

Either way the client is a niced curl writing to /dev/null. `--no-background-import` leaves the
import out, so that a run measures the export's effect alone. `--alternate SECONDS` runs the
exports for SECONDS, then none for as long, in turn, instead of a separate plain run: label saves
and pages are then split by whether they overlapped an export, so both halves come from the same
minutes of one run and a shared machine's drift falls on both alike.

`--faults` injects database faults during the load (bench/load/faults.py): every client backend
of the scratch database terminated every `--kill-every` seconds, ACCESS EXCLUSIVE locks on the
annotation table (`--lock-seconds`, one every `--lock-every` seconds), and the app's database
role held to 2 connections for 10 s with its backends terminated. gunicorn then connects as that
non-superuser role (PostgreSQL exempts superusers from connection limits). Refusals (503) are
expected then; the checks become: no other server error or dropped connection, reconciliation,
and no label save or page longer than the web statement timeout plus 5 s (nothing waits for a
lock's holder; sign-in, whose time is PBKDF2's CPU, is left out).

Run: `make load-test` or `.venv/bin/python bench/load/run.py --users 50 --duration 10m`.
Exit status 0 when every check passes. Figures are recorded in bench/README.md, "Load test".
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"

CORPUS_SLUG = "load"
# Background imports go to a corpus of their own: growing the annotated corpus 50-fold during the
# run would slow its pages by itself and make the comparison with the plain run meaningless.
IMPORT_CORPUS_SLUG = "load-import"
# A batch import is a background job: it runs niced, as an operator would run it beside the site
# (the PostgreSQL backend that serves its COPY is not niced).
IMPORT_NICENESS = 19
STANCE_TARGET = "China–North Korea alliance"
# Targets from the hardening issue, in milliseconds.
LABEL_P95, LABEL_P99, PAGE_P95 = 100.0, 250.0, 300.0
PAGES = ("corpus page", "next", "article page")
REPORTED = ("label save", *PAGES, "finish", "login")
# One import job runs for a while, as a real one does (1,500 articles, ~35,000 sentences: below
# the size where the importer starts a worker pool), paced like a background job on the site.
BACKGROUND_IMPORT_ARTICLES = 1_500


def parse_duration(raw: str) -> int:
    """'120', '120s', '10m' or '1h' as seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*([smh]?)\s*", raw)
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {raw!r} (e.g. 120s, 10m)")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def database_url(name: str, *, user: str | None = None) -> str:
    base = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/annotator"))
    if user is not None:
        host = base.netloc.rpartition("@")[2]
        base = base._replace(netloc=f"{user}@{host}")
    return urlunsplit(base._replace(path=f"/{name}"))


def recreate_database(name: str, *, drop_only: bool = False) -> None:
    import psycopg2

    connection = psycopg2.connect(database_url("postgres"))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def default_database() -> str:
    """The scratch database's default name: DATABASE_URL's with `_load` appended, so that two
    people (or two suites) on one server, each with their own DATABASE_URL, never share it."""
    base = urlsplit(os.environ.get("DATABASE_URL", "")).path.strip("/") or "annotator"
    return f"{base}_load"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sample_sentences() -> list[str]:
    """Every sentence of the real scraped articles in samples/, the material for the corpus."""
    from annotator.segmentation import split_sentences

    pool = []
    for path in sorted((ROOT / "samples").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        pool += [" ".join(text[s.start : s.end].split()) for s in split_sentences(text)]
    return [sentence for sentence in pool if 20 <= len(sentence) <= 400]


def write_articles(path: Path, *, count: int, prefix: str, seed: int) -> None:
    """`count` articles of ~25 sentences as JSONL; a numbered headline keeps each text unique."""
    rng = random.Random(seed)
    pool = sample_sentences()
    with path.open("w", encoding="utf-8") as out:
        for number in range(count):
            title = f"{prefix} {number}: {rng.choice(pool)[:60].rstrip()}"
            body = rng.sample(pool, 24)
            paragraphs, start = [], 0
            while start < len(body):
                size = rng.randint(2, 5)
                paragraphs.append(" ".join(body[start : start + size]))
                start += size
            record = {
                "id": f"{prefix}-{number}",
                "title": title,
                "text": "\n\n".join([title, *paragraphs]),
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def seed(*, folder: Path, articles: int, users: int) -> tuple[Path, str, int]:
    """Corpus, articles and accounts; returns (accounts file, export token, sentence count)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from annotator.importing import import_articles
    from annotator.models import Corpus, Membership, Role, StanceTarget
    from annotator.tokens import create_token

    corpus = Corpus.objects.create(name="Load test", slug=CORPUS_SLUG, annotators_per_article=3)
    corpus.ensure_default_schema()
    StanceTarget.objects.create(corpus=corpus, name=STANCE_TARGET, order=0)
    source = folder / "articles.jsonl"
    write_articles(source, count=articles, prefix="Load article", seed=2026)
    summary = import_articles(corpus=corpus, sources=[source])

    User = get_user_model()
    passwords = [secrets.token_urlsafe(12) for _ in range(users)]
    # The production hasher (PBKDF2, ~0.2 s each) on both cores: hashlib releases the GIL.
    with ThreadPoolExecutor(max_workers=2) as pool:
        hashes = list(pool.map(make_password, passwords))
    accounts = User.objects.bulk_create(
        User(username=f"load-annotator-{n:03d}", password=hashes[n]) for n in range(users)
    )
    Membership.objects.bulk_create(
        Membership(user=user, corpus=corpus, role=Role.ANNOTATOR) for user in accounts
    )
    manager = User.objects.create_user(username="load-manager", password=secrets.token_urlsafe(16))
    Membership.objects.create(user=manager, corpus=corpus, role=Role.MANAGER)
    _, token = create_token(user=manager, name="load test export")

    accounts_file = folder / "accounts.tsv"
    accounts_file.touch(mode=0o600)
    accounts_file.write_text(
        "".join(
            f"{user.username}\t{password}\n"
            for user, password in zip(accounts, passwords, strict=True)
        )
    )
    return accounts_file, token, summary.sentences


def build_load_release() -> tuple[int, dict[str, int]]:
    """Cut and build release 1 of the load corpus as a manager would, through the app's own
    domain code; every sentence becomes a record (nothing is labelled yet at setup), so its
    files carry the same sentences as the live export. Returns its number and its files' sizes
    by name."""
    from dataclasses import replace

    from annotator.models import Corpus, Membership, RecordInclusion, Role
    from annotator.releases.building import build_release
    from annotator.releases.catalog import cut_release, default_options

    corpus = Corpus.objects.get(slug=CORPUS_SLUG)
    manager = Membership.objects.get(corpus=corpus, role=Role.MANAGER).user
    options = replace(default_options(corpus), include=RecordInclusion.ALL, note="load test")
    release = cut_release(corpus=corpus, options=options, by=manager, enqueue=False)
    release = build_release(release.pk)
    return release.number, {entry["name"]: entry["bytes"] for entry in release.files}


@dataclass
class Background:
    """An import and an export, each repeated until stopped; they count runs and failures."""

    host: str
    token: str
    folder: Path
    env: dict[str, str]
    # What one export downloads: the live API export, or every file of a built release.
    export_paths: list[str] = field(default_factory=list)
    with_import: bool = True
    # > 0: exports run for this many seconds, then none for as long, and so on (see split()).
    alternate_seconds: float = 0
    # (start, end) of every export attempt, in time.time() like Locust's sample times.
    export_spans: list[tuple[float, float]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    imports: list[float] = field(default_factory=list)
    exports: list[float] = field(default_factory=list)
    export_bytes: int = 0
    failures: list[str] = field(default_factory=list)
    server_errors: int = 0

    def start(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._export_loop, daemon=True)]
        if self.with_import:
            threads.append(threading.Thread(target=self._import_loop, daemon=True))
        for thread in threads:
            thread.start()
        return threads

    def _import_loop(self) -> None:
        from django.conf import settings

        batch = 0
        while not self.stop.is_set():
            path = self.folder / f"background-{batch}.jsonl"
            write_articles(
                path, count=BACKGROUND_IMPORT_ARTICLES, prefix=f"Background {batch}", seed=batch
            )
            started = time.perf_counter()
            result = subprocess.run(
                [
                    "nice",
                    f"-n{IMPORT_NICENESS}",
                    sys.executable,
                    "manage.py",
                    "import_corpus",
                    IMPORT_CORPUS_SLUG,
                    str(path),
                    "--create",
                    "--duty-cycle",
                    str(settings.IMPORT_DUTY_CYCLE),
                ],
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                text=True,
            )
            path.unlink()
            if result.returncode:
                self.failures.append(f"import {batch}: {result.stderr.strip()[-500:]}")
            else:
                self.imports.append(time.perf_counter() - started)
            batch += 1

    def _export_loop(self) -> None:
        # The export's client stands in for a machine elsewhere: a niced curl writing to
        # /dev/null, so reading the stream does not take the server's CPU from the annotators.
        phase_started = time.time()
        while not self.stop.is_set():
            if self.alternate_seconds and time.time() - phase_started >= self.alternate_seconds:
                # Alternating: as long again with no export at all, then the next phase.
                self.stop.wait(self.alternate_seconds)
                phase_started = time.time()
                continue
            started = time.time()
            downloaded = 0
            for path in self.export_paths:
                size = self._download(path)
                if size is None:
                    break
                downloaded += size
            else:
                self.exports.append(time.time() - started)
                self.export_bytes += downloaded
            self.export_spans.append((started, time.time()))

    def _download(self, path: str) -> int | None:
        """One download with curl; its size, or None (failure recorded) if it failed."""
        result = subprocess.run(
            [
                "nice",
                f"-n{IMPORT_NICENESS}",
                "curl",
                "--silent",
                "--show-error",
                "--max-time",
                "120",
                "--header",
                f"Authorization: Bearer {self.token}",
                "--output",
                "/dev/null",
                "--write-out",
                "%{http_code} %{size_download}",
                f"{self.host}{path}",
            ],
            capture_output=True,
            text=True,
        )
        status, _, size = result.stdout.strip().partition(" ")
        if result.returncode or not status.isdigit():
            self.server_errors += 1
            self.failures.append(f"export failed: {result.stderr.strip()[-300:]}")
            time.sleep(1)
            return None
        if int(status) >= 500:
            self.server_errors += 1
        if status != "200":
            self.failures.append(f"export answered {status}")
            time.sleep(1)
            return None
        return int(size or 0)


def percentiles(samples: list[float]) -> dict[str, float]:
    if len(samples) < 2:
        value = samples[0] if samples else float("nan")
        return {"n": len(samples), "p50": value, "p95": value, "p99": value, "max": value}
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "n": len(samples),
        "p50": statistics.median(samples),
        "p95": cuts[94],
        "p99": cuts[98],
        "max": max(samples),
    }


def per_minute(samples: dict[str, list[list[float]]]) -> dict[str, list[float]]:
    """p95 of label saves and of pages (corpus page, next, article page) in each minute."""
    start = min(at for times in samples.values() for at, _ in times)
    groups = {"label save": ("label save",), "pages": PAGES}
    result = {}
    for group, names in groups.items():
        minutes: dict[int, list[float]] = defaultdict(list)
        for name in names:
            for at, ms in samples.get(name, []):
                minutes[int((at - start) // 60)].append(ms)
        result[group] = [
            round(percentiles(minutes[minute])["p95"], 1) for minute in sorted(minutes)
        ]
    return result


def split_by_export(
    samples: dict[str, list[list[float]]],
    spans: list[tuple[float, float]],
    *,
    after: float,
) -> dict[str, dict[str, dict[str, float]]]:
    """Percentiles of label saves and pages (each page type and all three together), split
    into requests that started while an export ran and requests that did not; samples that
    started before `after` (while annotators still arrive: sign-ins are CPU-bound) are left out.

    A request is sorted by its start alone: "overlapped an export at any point" would put
    nearly every slow request on the export's side, whatever the export did. With exports
    alternating on and off (`--alternate`), both halves come from the same minutes of the same
    run, so a shared machine's drift falls on both alike.
    """
    spans = sorted(spans)
    starts = [start for start, _ in spans]

    def during_export(moment: float) -> bool:
        # One export at a time: only the last span starting at or before `moment` can hold it.
        index = bisect.bisect_right(starts, moment) - 1
        return index >= 0 and spans[index][1] >= moment

    groups = {"label save": ("label save",), **{name: (name,) for name in PAGES}, "pages": PAGES}
    result: dict[str, dict[str, dict[str, float]]] = {}
    for group, names in groups.items():
        during: list[float] = []
        outside: list[float] = []
        for name in names:
            for at, ms in samples.get(name, []):
                started = at - ms / 1000  # Locust records when the answer came
                if started < after:
                    continue
                (during if during_export(started) else outside).append(ms)
        result[group] = {"export": percentiles(during), "no export": percentiles(outside)}
    return result


def reconcile(folder: Path) -> dict[str, object]:
    """Compare the label logs of the simulated annotators with the Annotation table."""
    from annotator.models import Annotation

    # (username, sentence, target or 0) -> [last acknowledged choice, choices sent unanswered]
    state: dict[tuple[str, int, int], list[object]] = {}
    acknowledged = sent = 0
    for log in sorted(folder.glob("labels-*.jsonl")):
        username = log.stem.removeprefix("labels-")
        for line in log.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            key = (username, record["sentence"], record["target"])
            entry = state.setdefault(key, [None, set()])
            if record["event"] == "sent":
                sent += 1
                entry[1].add(record["choice"])
            else:
                acknowledged += 1
                # Saves are sequential per annotator: this ack answers the send just before it.
                entry[0] = record["choice"]
                entry[1] = set()

    stored: dict[tuple[str, int, int], list[int]] = defaultdict(list)
    rows = Annotation.objects.filter(annotator__username__startswith="load-annotator-")
    for username, sentence, target, choice in rows.values_list(
        "annotator__username", "sentence_id", "target_id", "choice_id"
    ):
        stored[(username, sentence, target or 0)].append(choice)

    missing, duplicated, wrong, never_sent = [], [], [], []
    for key, (last_ack, unanswered) in state.items():
        choices = stored.get(key, [])
        if len(choices) > 1:
            duplicated.append(key)
        elif last_ack is not None and not choices:
            missing.append(key)
        elif choices and choices[0] != last_ack and choices[0] not in unanswered:
            wrong.append(key)
    never_sent = [key for key in stored if key not in state]
    return {
        "labels_sent": sent,
        "labels_acknowledged": acknowledged,
        "keys_acknowledged": sum(1 for last, _ in state.values() if last is not None),
        "rows_in_database": sum(len(choices) for choices in stored.values()),
        "unanswered_at_end": sum(1 for _, unanswered in state.values() if unanswered),
        "missing": len(missing),
        "duplicated": len(duplicated),
        "wrong_value": len(wrong),
        "never_sent": len(never_sent),
        "examples": [str(key) for key in (missing + duplicated + wrong + never_sent)[:10]],
        "ok": bool(acknowledged) and not (missing or duplicated or wrong or never_sent),
    }


def run_once(args: argparse.Namespace, *, background: bool) -> dict:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections
    from tqdm import tqdm

    folder = Path(tempfile.mkdtemp(prefix="annotator-load-"))
    os.chmod(folder, 0o700)
    if background:
        label = f"with background {args.background_export} export"
        label += " + import" if args.background_import else ", no import"
    else:
        label = "plain"
    if args.faults:
        label += ", with database faults"
    print(f"\n== Load test ({label}): {args.users} users, {args.duration} s; files in {folder}")
    recreate_database(args.database)
    call_command("migrate", verbosity=0, interactive=False)
    accounts, token, sentences = seed(folder=folder, articles=args.articles, users=args.users)
    connections.close_all()
    print(f"   seeded {args.articles} articles ({sentences} sentences), {args.users} annotators")
    export_paths = [f"/api/v1/corpora/{CORPUS_SLUG}/export/?format=jsonl"]
    release_built = None
    if background and args.background_export == "release":
        started = time.perf_counter()
        number, sizes = build_load_release()
        names = args.release_file or list(sizes)
        if set(names) - set(sizes):
            raise SystemExit(f"--release-file: the release has {', '.join(sizes)}")
        size = sum(sizes[name] for name in names)
        release_built = {
            "seconds": round(time.perf_counter() - started, 1),
            "files": names,
            "megabytes": round(size / 1e6, 1),
        }
        export_paths = [
            f"/api/v1/corpora/{CORPUS_SLUG}/releases/{number}/files/{name}/" for name in names
        ]
        connections.close_all()
        print(
            f"   built release {number} ({len(sizes)} files); each export downloads "
            f"{len(names)} of them, {size / 1e6:.1f} MB"
        )

    port = args.port or free_port()
    host = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": str(args.workers)}
    env["GUNICORN_THREADS"] = str(args.threads)
    injector = None
    if args.faults:
        from faults import FaultInjector, create_app_role

        role = create_app_role(database_url("postgres"), database_url(args.database))
        env["DATABASE_URL"] = database_url(args.database, user=role)
        injector = FaultInjector(
            admin_url=database_url("postgres"),
            database=args.database,
            role=role,
            kill_every=args.kill_every,
            lock_seconds=args.lock_seconds,
            lock_every=args.lock_every,
        )
    with (folder / "gunicorn.log").open("w") as server_log:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "annotator.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(host, server)
        extra = Background(
            host=host,
            token=token,
            folder=folder,
            env=env,
            export_paths=export_paths,
            with_import=args.background_import,
            alternate_seconds=args.alternate,
        )
        load_started = time.time()
        threads = extra.start() if background else []
        if injector is not None:
            threads.append(injector.start())
        locust_env = {
            **os.environ,
            "LOAD_ACCOUNTS": str(accounts),
            "LOAD_CORPUS": CORPUS_SLUG,
            "LOAD_OUT": str(folder),
            "LOAD_THINK_MIN": str(args.think_min),
            "LOAD_THINK_MAX": str(args.think_max),
        }
        load_average: list[float] = []
        with (folder / "locust.log").open("w") as locust_log:
            locust = subprocess.Popen(
                [
                    str(BIN / "locust"),
                    "-f",
                    str(LOCUSTFILE),
                    "--headless",
                    "--users",
                    str(args.users),
                    "--spawn-rate",
                    str(args.spawn_rate),
                    "--run-time",
                    f"{args.duration}s",
                    "--host",
                    host,
                    "--csv",
                    str(folder / "locust"),
                    "--loglevel",
                    "WARNING",
                ],
                cwd=ROOT,
                env=locust_env,
                stdout=locust_log,
                stderr=subprocess.STDOUT,
            )
            with tqdm(
                total=args.duration, unit="s", desc="   load", file=sys.stderr, mininterval=5
            ) as bar:
                for elapsed in itertools.count(1):
                    time.sleep(1)
                    if locust.poll() is not None:
                        break
                    if bar.n < bar.total:
                        bar.update(1)
                    if elapsed % 10 == 0:
                        # The machine is shared: the load average shows who else used the CPU.
                        load_average.append(round(os.getloadavg()[0], 2))
            locust.wait()
        extra.stop.set()
        if injector is not None:
            injector.stop.set()
        for thread in threads:
            thread.join(timeout=180)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if injector is not None:
            injector.close()

    timings_file = folder / "timings.json"
    if not timings_file.exists():
        raise SystemExit(f"Locust wrote no timings; see {folder / 'locust.log'}")
    timings = json.loads(timings_file.read_text())
    figures = {
        name: percentiles([ms for _, ms in samples])
        for name, samples in timings["times_ms"].items()
    }
    timeline = per_minute(timings["times_ms"])
    split = None
    if background and args.alternate:
        everyone_in = load_started + args.users / args.spawn_rate + 10
        split = split_by_export(timings["times_ms"], extra.export_spans, after=everyone_in)
        (folder / "export_spans.json").write_text(
            json.dumps({"after": everyone_in, "spans": extra.export_spans})
        )
    server_errors = sum(timings["server_errors"].values()) + extra.server_errors
    refused = sum(counts.get("503", 0) for counts in timings["statuses"].values())
    reconciliation = reconcile(folder)
    connections.close_all()
    summary = {
        "mode": ("background" if background else "plain") + (" + faults" if args.faults else ""),
        "users": args.users,
        "duration_s": args.duration,
        "workers": args.workers,
        "threads": args.threads,
        "think_s": [args.think_min, args.think_max],
        "figures_ms": figures,
        "p95_per_minute_ms": timeline,
        "split_by_export_ms": split,
        "load_average_every_10s": load_average,
        "statuses": timings["statuses"],
        "server_errors": server_errors,
        "server_errors_by_request": timings["server_errors"],
        "refused_503": refused,
        "faults": injector.summary() if injector is not None else None,
        "reconciliation": reconciliation,
        "background": {
            "export": args.background_export,
            "export_pacing": {
                "EXPORT_DUTY_CYCLE": settings.EXPORT_DUTY_CYCLE,
                "EXPORT_NICENESS": settings.EXPORT_NICENESS,
            },
            "release": release_built,
            "import": args.background_import,
            "alternate_seconds": args.alternate,
            "imports": len(extra.imports),
            "import_articles_each": BACKGROUND_IMPORT_ARTICLES,
            "import_seconds_median": statistics.median(extra.imports) if extra.imports else None,
            "exports": len(extra.exports),
            "export_seconds_median": statistics.median(extra.exports) if extra.exports else None,
            "export_megabytes_each": round(extra.export_bytes / len(extra.exports) / 1e6, 1)
            if extra.exports
            else None,
            "failures": extra.failures[:10],
        }
        if background
        else None,
        "folder": str(folder),
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def wait_until_up(host: str, server: subprocess.Popen) -> None:
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {server.returncode}; see gunicorn.log")
        try:
            if requests.get(f"{host}/accounts/login/", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit("gunicorn did not answer within 60 s; see gunicorn.log")


def checks(summary: dict, baseline: dict | None) -> list[tuple[str, bool]]:
    figures = summary["figures_ms"]
    empty = {"p95": float("nan"), "p99": float("nan")}
    label = figures.get("label save", empty)
    if summary.get("faults"):
        return fault_checks(summary)
    result = [
        (f"server errors: {summary['server_errors']} (target 0)", summary["server_errors"] == 0),
        (
            "reconciliation: every acknowledged label stored exactly once with its last value "
            f"({summary['reconciliation']['keys_acknowledged']} labels)",
            summary["reconciliation"]["ok"],
        ),
        (
            f"label save p95 {label['p95']:.0f} ms (target ≤ {LABEL_P95:.0f})",
            label["p95"] <= LABEL_P95,
        ),
        (
            f"label save p99 {label['p99']:.0f} ms (target ≤ {LABEL_P99:.0f})",
            label["p99"] <= LABEL_P99,
        ),
    ]
    for name in PAGES:
        p95 = figures.get(name, empty)["p95"]
        result.append((f"{name} p95 {p95:.0f} ms (target ≤ {PAGE_P95:.0f})", p95 <= PAGE_P95))
    if summary.get("split_by_export_ms"):
        for name in ("label save", *PAGES):
            halves = summary["split_by_export_ms"][name]
            before, after = halves["no export"]["p95"], halves["export"]["p95"]
            result.append(
                (
                    f"{name} p95 while an export ran {after:.0f} ms vs none {before:.0f} ms "
                    f"(×{after / before:.2f}, target ≤ ×2)",
                    after <= 2 * before,
                )
            )
    if baseline is not None:
        for name in ("label save", *PAGES):
            before = baseline["figures_ms"].get(name, empty)["p95"]
            after = figures.get(name, empty)["p95"]
            result.append(
                (
                    f"{name} p95 with background {after:.0f} ms vs plain {before:.0f} ms "
                    f"(×{after / before:.2f}, target ≤ ×2)",
                    after <= 2 * before,
                )
            )
    return result


def fault_checks(summary: dict) -> list[tuple[str, bool]]:
    """Under injected faults refusals are expected; errors, lost labels and long waits are not."""
    unexpected = summary["server_errors"] - summary["refused_503"]
    # Requests that read or write the locked table; sign-in is left out: its cost is PBKDF2's
    # CPU time, which a busy machine stretches, not a database wait.
    longest = max(
        figure["max"]
        for name, figure in summary["figures_ms"].items()
        if name not in ("login", "login page")
    )
    bound = summary["faults"]["web_statement_timeout_ms"] + 5000
    return [
        (
            f"server errors other than 503 (and dropped connections): {unexpected} (target 0); "
            f"503 refusals: {summary['refused_503']}",
            unexpected == 0,
        ),
        (
            "reconciliation: every acknowledged label stored exactly once with its last value "
            f"({summary['reconciliation']['keys_acknowledged']} labels)",
            summary["reconciliation"]["ok"],
        ),
        (
            f"longest label save or page {longest:.0f} ms (target ≤ {bound} ms, the web "
            "statement timeout + 5 s: nothing waits for a lock's holder)",
            longest <= bound,
        ),
    ]


def report(summary: dict, baseline: dict | None) -> bool:
    print(f"\n== Results ({summary['mode']}, {summary['users']} users, {summary['duration_s']} s)")
    print(f"   {'request':<14}{'n':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for name in REPORTED:
        if name in summary["figures_ms"]:
            f = summary["figures_ms"][name]
            print(
                f"   {name:<14}{f['n']:>8}{f['p50']:>10.1f}{f['p95']:>10.1f}{f['p99']:>10.1f}"
                f"{f['max']:>10.1f}"
            )
    rec = summary["reconciliation"]
    print(
        f"   labels: {rec['labels_sent']} sent, {rec['labels_acknowledged']} acknowledged, "
        f"{rec['keys_acknowledged']} distinct labels, {rec['rows_in_database']} rows in the "
        f"database, {rec['unanswered_at_end']} cut off unanswered at the end; missing "
        f"{rec['missing']}, duplicated {rec['duplicated']}, wrong value {rec['wrong_value']}, "
        f"never sent {rec['never_sent']}"
    )
    for group, values in summary["p95_per_minute_ms"].items():
        print(f"   {group} p95 per minute (ms): {', '.join(f'{v:.0f}' for v in values)}")
    print(f"   1-minute load average every 10 s: {summary['load_average_every_10s']}")
    if summary.get("split_by_export_ms"):
        print("   alternating: requests that started while an export ran vs the others")
        print(f"   {'request':<14}{'':>11}{'n':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
        for name, halves in summary["split_by_export_ms"].items():
            for half in ("no export", "export"):
                f = halves[half]
                print(
                    f"   {name:<14}{half:>11}{f['n']:>8}{f['p50']:>10.1f}{f['p95']:>10.1f}"
                    f"{f['p99']:>10.1f}"
                )
    if summary.get("faults"):
        faults = summary["faults"]
        print(f"   faults: {json.dumps({k: v for k, v in faults.items() if k != 'events'})}")
        for at, event in faults["events"]:
            print(f"     {at:7.1f} s  {event}")
    if summary["background"]:
        print(f"   background: {json.dumps(summary['background'])}")
    passed = True
    for text, ok in checks(summary, baseline):
        print(f"   {'PASS' if ok else 'FAIL'}  {text}")
        passed = passed and ok
    print(f"   files: {summary['folder']}")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=parse_duration, default=120, help="e.g. 120s, 10m")
    parser.add_argument(
        "--spawn-rate",
        type=float,
        default=1,
        help="annotators arriving per second (each sign-in costs ~0.2 s of CPU: PBKDF2)",
    )
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument(
        "--database",
        default=default_database(),
        help="scratch database, dropped and created again (default: %(default)s)",
    )
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (default: a free one)")
    # Defaults as in production: gunicorn.conf.py's (2 × cores + 1 processes, 2 threads each).
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY", min(2 * (os.cpu_count() or 1) + 1, 8))),
        help="gunicorn processes",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("GUNICORN_THREADS", 2)),
        help="threads per gunicorn process",
    )
    parser.add_argument("--think-min", type=float, default=0.5, help="seconds between labels")
    parser.add_argument("--think-max", type=float, default=1.5)
    parser.add_argument("--with-background", action="store_true")
    parser.add_argument(
        "--background-export",
        choices=("api", "release"),
        default="api",
        help="the background export: the live API export, or downloads of a built release's "
        "files (default: %(default)s)",
    )
    parser.add_argument(
        "--release-file",
        action="append",
        metavar="NAME",
        help="with --background-export release: download only this file of the release "
        "(repeatable; default: every file), e.g. sentences.jsonl.gz, the live export's "
        "counterpart",
    )
    parser.add_argument(
        "--alternate",
        type=float,
        default=0,
        metavar="SECONDS",
        help="with --with-background: exports for SECONDS, then none for as long, in turn, and "
        "latencies split by whether an export was running; no separate plain run",
    )
    parser.add_argument(
        "--background-import",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the background import (--no-background-import: the export alone)",
    )
    parser.add_argument("--baseline", type=Path, help="summary.json of a plain run to compare to")
    parser.add_argument("--summary", type=Path, help="also write the (last) summary here")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument(
        "--faults", action="store_true", help="inject database faults (bench/load/faults.py)"
    )
    parser.add_argument("--kill-every", type=float, default=20, help="seconds between kills")
    parser.add_argument(
        "--lock-seconds",
        type=lambda raw: [float(part) for part in raw.split(",")],
        default=[15.0, 75.0],
        help="durations of the table locks, taken in turn (default 15,75)",
    )
    parser.add_argument("--lock-every", type=float, default=120, help="seconds between locks")
    args = parser.parse_args()

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "annotator.settings",
            "DATABASE_URL": database_url(args.database),
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain HTTP on loopback: no redirect to HTTPS, cookies without the Secure flag.
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "LOG_LEVEL": "WARNING",
            # info: gunicorn.log then shows worker restarts (max_requests) beside the access log.
            "GUNICORN_LOG_LEVEL": "info",
        }
    )
    static_root = Path(tempfile.mkdtemp(prefix="annotator-load-static-"))
    os.environ["STATIC_ROOT"] = str(static_root)
    # Release files (--background-export release) go to a scratch folder, not the checkout's.
    media_root = Path(tempfile.mkdtemp(prefix="annotator-load-media-"))
    os.environ["MEDIA_ROOT"] = str(media_root)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)

    passed = True
    try:
        baseline = None
        if args.with_background and not args.alternate:
            if args.baseline:
                baseline = json.loads(args.baseline.read_text())
            else:
                baseline = run_once(args, background=False)
                passed = report(baseline, None)
        summary = run_once(args, background=args.with_background)
        passed = report(summary, baseline) and passed
        if args.summary:
            args.summary.write_text(json.dumps(summary, indent=2))
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(static_root, ignore_errors=True)
        shutil.rmtree(media_root, ignore_errors=True)
        if args.faults:
            from faults import app_role_name, drop_app_role

            role = app_role_name(args.database)
            drop_app_role(database_url("postgres"), database_url(args.database), role)
        if not args.keep_database:
            recreate_database(args.database, drop_only=True)
    print("\nLoad test: PASS" if passed else "\nLoad test: FAIL")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
