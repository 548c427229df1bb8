"""Locust users for the load test: annotators doing the real workspace flow over HTTP.

Each simulated annotator signs in with one of the accounts `run.py` created, then loops: "Next
article" (POST) → the article page → one htmx label save per sentence and layer (claim type, then
a stance per target, as the keyboard flow sends them; now and then a correction of the claim) →
"Mark article done" → the corpus page. Every label save is written to the user's own log twice:
`sent` before the request and `ack` after a 2xx answer, so `run.py` can check afterwards that every
acknowledged label is in the database exactly once with its last acknowledged value (and knows
which saves were cut off unanswered, whose outcome is legitimately unknown).

Configuration comes from the environment `run.py` sets: LOAD_ACCOUNTS (a file of
`username<TAB>password` lines), LOAD_CORPUS (slug), LOAD_OUT (folder for the logs),
LOAD_THINK_MIN / LOAD_THINK_MAX (seconds between two labels, like a person reading).
Every response time is recorded exactly per request type for `run.py`'s percentiles.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import gevent
from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

ACCOUNTS = [
    tuple(line.split("\t", 1))
    for line in Path(os.environ["LOAD_ACCOUNTS"]).read_text().splitlines()
    if line.strip()
]
CORPUS = os.environ["LOAD_CORPUS"]
OUT = Path(os.environ["LOAD_OUT"])
THINK = (
    float(os.environ.get("LOAD_THINK_MIN", "0.5")),
    float(os.environ.get("LOAD_THINK_MAX", "1.5")),
)
LOGIN_ATTEMPTS = 20
# Share of sentences whose claim type the annotator corrects after labelling it.
CORRECTION_RATE = 0.1

_next_account = itertools.count()
# Exact response times (ms) and counts of server errors per request type, dumped at the end.
_times: dict[str, list[tuple[float, float]]] = defaultdict(list)
_server_errors: dict[str, int] = defaultdict(int)
_statuses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LABEL_FORM = re.compile(r'<form class="labels" method="post" action="(/sentences/(\d+)/label/)"')
LABEL_BUTTON = re.compile(r'name="label" value="([0-9:]+)"')


@events.request.add_listener
def _record(
    name: str, response_time: float, response: Any = None, exception: Any = None, **_: Any
) -> None:
    status = getattr(response, "status_code", 0) or 0
    # With the time it ended, so run.py can tell a steady tail from a burst (e.g. a restart).
    _times[name].append((round(time.time(), 3), response_time))
    _statuses[name][str(status)] += 1
    # A dropped connection (status 0) counts as a server error too: the server did not answer.
    if status >= 500 or (status == 0 and exception is not None):
        _server_errors[name] += 1


@events.test_stop.add_listener
def _dump(**_: Any) -> None:
    (OUT / "timings.json").write_text(
        json.dumps(
            {
                "times_ms": _times,
                "server_errors": _server_errors,
                "statuses": {name: dict(counts) for name, counts in _statuses.items()},
            }
        )
    )


class Annotator(FastHttpUser):
    # Between two articles: a short pause, as after "done".
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        number = next(_next_account)
        self.username, password = ACCOUNTS[number % len(ACCOUNTS)]
        self.log = (OUT / f"labels-{self.username}.jsonl").open("a", encoding="utf-8")
        # A refusal (503 while the database is faulted, run.py --faults) is tried again.
        for attempt in range(LOGIN_ATTEMPTS):
            if self._sign_in(password, last=attempt == LOGIN_ATTEMPTS - 1):
                return
            gevent.sleep(1)
        raise RuntimeError(f"cannot sign in as {self.username}")

    def _sign_in(self, password: str, *, last: bool) -> bool:
        page = self.client.get("/accounts/login/", name="login page")
        token = CSRF_INPUT.search(page.text) if page.status_code == 200 else None
        if token is None:
            return False
        with self.client.post(
            "/accounts/login/",
            data={
                "username": self.username,
                "password": password,
                "csrfmiddlewaretoken": token.group(1),
            },
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 302:
                return True
            if response.status_code == 503 and not last:
                response.success()
                return False
            response.failure(f"login of {self.username} answered {response.status_code}")
            raise RuntimeError(f"cannot sign in as {self.username}")

    def on_stop(self) -> None:
        self.log.close()

    def _think(self) -> None:
        gevent.sleep(random.uniform(*THINK))

    @task
    def annotate_one_article(self) -> None:
        corpus_url = f"/corpora/{CORPUS}/"
        corpus_page = self.client.get(corpus_url, name="corpus page")
        token = CSRF_INPUT.search(corpus_page.text)
        if token is None:
            return
        with self.client.post(
            f"{corpus_url}next/",
            data={"csrfmiddlewaretoken": token.group(1)},
            name="next",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            location = response.headers.get("Location", "")
            if response.status_code != 302 or not location.startswith("/articles/"):
                # Nothing left for this annotator (or an error, already counted): wait and retry.
                response.success()
                gevent.sleep(5)
                return
        page = self.client.get(location, name="article page")
        if page.status_code != 200:
            return
        self._label_article(page.text)
        article_id = location.strip("/").split("/")[-1]
        token = CSRF_INPUT.search(page.text).group(1)
        with self.client.post(
            f"/articles/{article_id}/finish/",
            data={"csrfmiddlewaretoken": token},
            name="finish",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 302 and "missing=1" in response.headers.get("Location", ""):
                response.failure("finish refused: sentences still missing labels")

    def _label_article(self, html: str) -> None:
        token = CSRF_INPUT.search(html).group(1)
        forms = list(LABEL_FORM.finditer(html))
        for index, form in enumerate(forms):
            end = forms[index + 1].start() if index + 1 < len(forms) else len(html)
            buttons = LABEL_BUTTON.findall(html, form.end(), end)
            claims = [value for value in buttons if ":" not in value]
            stances: dict[str, list[str]] = defaultdict(list)
            for value in buttons:
                if ":" in value:
                    stances[value.split(":")[1]].append(value)
            url, sentence_id = form.group(1), int(form.group(2))
            self._think()
            self._save(url, sentence_id, random.choice(claims), token)
            for values in stances.values():
                self._think()
                self._save(url, sentence_id, random.choice(values), token)
            if random.random() < CORRECTION_RATE:
                self._think()
                self._save(url, sentence_id, random.choice(claims), token)

    def _save(self, url: str, sentence_id: int, value: str, token: str) -> None:
        choice, _, target = value.partition(":")
        entry = {"sentence": sentence_id, "choice": int(choice), "target": int(target or 0)}
        self._write({"event": "sent", **entry})
        response = self.client.post(
            url,
            data={"label": value, "seconds": f"{random.uniform(0.5, 3):.1f}"},
            headers={"HX-Request": "true", "X-CSRFToken": token},
            name="label save",
        )
        if 200 <= response.status_code < 300:
            self._write({"event": "ack", **entry})

    def _write(self, record: dict[str, object]) -> None:
        self.log.write(json.dumps(record) + "\n")
        self.log.flush()
