/*
 * Sending the changes a person makes by key or click (a label, a note, a gold label), shared by
 * workspace.js and curation.js.
 *
 * Changes go one at a time, in the order they were made, so the server sees what the person
 * did in the order they did it. A failure that may pass (no answer, a network error, a timeout,
 * 5xx, 408, 429) is retried with growing pauses; that is safe because every change here is an
 * idempotent upsert ("this sentence's claim type is Opinion"). Changes made meanwhile wait
 * behind it. After TRIES failed tries the change, and those waiting behind it, are given up and
 * the page is told so. A refusal (any other 4xx, or a redirect to the sign-in page) is not
 * retried: the same request would be refused again.
 *
 * The page decides what a change looks like before and after; this module only sends, waits,
 * retries and reports: window.AnnotatorSaving.createQueue({ onSaved, onRetry, onGiveUp,
 * onChange }).
 */
(function () {
  "use strict";

  const TRIES = 5; // the first try and four retries: about 8 s of pauses in all
  const FIRST_PAUSE_MS = 500; // doubled after each failed try
  const LONGEST_PAUSE_MS = 30000; // also the most a server's Retry-After can ask for
  const TIMEOUT_MS = 15000; // a try without an answer by then counts as failed
  const SHORT_TEXT = 300; // a server message longer than this (or HTML) is not shown as is

  function csrfToken() {
    // base.html gives htmx the token in the body's hx-headers; the forms carry it as well.
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || "";
    } catch (error) {
      return "";
    }
  }

  // What went wrong, in words, and whether trying again may help.
  function failure(reason, temporary, status) {
    return { reason, temporary, status: status || 0 };
  }

  function serverWords(response, text) {
    const type = response.headers.get("content-type") || "";
    const trimmed = text.trim();
    if (!trimmed || trimmed.length > SHORT_TEXT || trimmed.includes("<")) return "";
    return type.startsWith("text/plain") || !type.includes("html") ? trimmed : "";
  }

  function failureOf(response, text) {
    const status = response.status;
    const temporary = status >= 500 || status === 408 || status === 429;
    const words = serverWords(response, text);
    const fallback = temporary
      ? "the server could not save it just now"
      : "the server refused it";
    return failure((words || fallback) + " (" + status + ")", temporary, status);
  }

  function pauseAfter(tries, response) {
    let pause = Math.min(FIRST_PAUSE_MS * 2 ** (tries - 1), LONGEST_PAUSE_MS);
    const asked = response ? Number(response.headers.get("retry-after")) : NaN;
    if (Number.isFinite(asked) && asked > 0) pause = Math.max(pause, Math.min(asked * 1000, LONGEST_PAUSE_MS));
    return pause;
  }

  // One try: resolves with { response, text } on 2xx, rejects with a failure otherwise.
  async function send(change) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    try {
      let response;
      try {
        response = await fetch(change.url, {
          method: "POST",
          body: change.body,
          headers: { "HX-Request": "true", "X-CSRFToken": csrfToken() },
          credentials: "same-origin",
          redirect: "manual", // a redirect here means the session ended: never follow it
          signal: controller.signal,
        });
      } catch (error) {
        throw controller.signal.aborted
          ? failure("the server did not answer within " + TIMEOUT_MS / 1000 + " s", true)
          : failure("the server could not be reached (network error)", true);
      }
      if (response.type === "opaqueredirect") {
        throw failure("you are signed out; sign in again in another tab, then repeat it", false);
      }
      let text;
      try {
        text = await response.text();
      } catch (error) {
        throw failure("the connection broke while the server answered", true);
      }
      if (!response.ok) {
        const problem = failureOf(response, text);
        problem.response = response;
        problem.text = text; // a refusal may still carry the stored state to show
        throw problem;
      }
      return { response, text };
    } finally {
      clearTimeout(timer);
    }
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function createQueue({ onSaved, onRetry, onGiveUp, onChange }) {
    const waiting = []; // changes not yet saved; the first is the one being sent
    const idleCallbacks = [];
    let running = false;

    function tell(callback, ...args) {
      try {
        if (callback) callback(...args);
      } catch (error) {
        // A page's display code failing must not stop later changes from being sent.
        console.error(error);
      }
    }

    async function run() {
      if (running) return;
      running = true;
      while (waiting.length) {
        const change = waiting[0];
        change.state = "sending";
        try {
          const result = await send(change);
          waiting.shift();
          change.state = "saved";
          tell(onSaved, change, result);
        } catch (problem) {
          change.tries += 1;
          if (problem.temporary && change.retry !== false && change.tries < TRIES) {
            change.state = "retrying";
            const pause = pauseAfter(change.tries, problem.response);
            tell(onRetry, change, problem, { pause, tries: change.tries, of: TRIES });
            tell(onChange);
            await sleep(pause);
            continue;
          }
          // Given up: after a temporary failure the changes behind it would meet the same
          // fate one by one, so they go too and the page says so once; a refusal is about
          // this change alone.
          const dropped = problem.temporary ? waiting.splice(0) : waiting.splice(0, 1);
          dropped.forEach((each) => { each.state = "given-up"; });
          tell(onGiveUp, dropped, problem, { tries: change.tries, of: TRIES });
        }
        tell(onChange);
      }
      running = false;
      while (idleCallbacks.length) tell(idleCallbacks.shift(), true);
    }

    return {
      // change: { url, body (FormData), retry (false for changes that are not idempotent),
      // plus whatever the page needs to recognise it later }
      push(change) {
        change.tries = 0;
        change.state = "waiting";
        waiting.push(change);
        tell(onChange);
        run();
        return change;
      },
      pending() {
        return waiting.slice();
      },
      busy() {
        return waiting.length > 0;
      },
      // Calls back once nothing waits any more (at once when idle).
      whenIdle(callback) {
        if (!waiting.length && !running) callback(true);
        else idleCallbacks.push(callback);
      },
    };
  }

  window.AnnotatorSaving = { createQueue, TRIES };
})();
