/*
 * Keyboard-first labelling on the article page.
 *
 * The page works without this file: every label is a submit button in a real form, and htmx
 * turns those forms into one request that swaps only the sentence's row. This module adds:
 * a focused sentence (j/k, arrows), the schema's keys, Tab between stance targets, moving on
 * after a finished sentence, undo (u), the help overlay (?), Enter on the last sentence to
 * finish, the seconds spent per sentence, and the article progress bar.
 * No inline handlers anywhere, so a strict Content-Security-Policy can forbid them.
 */
(function () {
  "use strict";

  const article = document.getElementById("article");
  if (!article || !article.dataset.canLabel) return;

  const help = document.getElementById("help");
  const toast = document.getElementById("toast");
  const undoForm = document.getElementById("undo-form");
  const finishForm = document.getElementById("finish-form");

  let focusedId = null; // data-sentence of the focused row
  let targetIndex = 0; // which stance target the stance keys apply to
  let focusStartedAt = performance.now();
  const secondsSpent = new Map(); // sentence id -> seconds not yet sent with a label
  // While a label or undo request is on its way, further keys wait in this queue and run in
  // order once its row is back: fast typing then means exactly what it would if every save
  // were instant (a key after a finished sentence applies to the next one).
  let busy = false;
  const queuedKeys = [];
  let advanceAfterSave = false;

  const rows = () => Array.from(document.querySelectorAll(".sentence-row"));
  const rowById = (id) => document.getElementById("s-" + id);

  function isTyping(target) {
    if (!(target instanceof HTMLElement)) return false;
    return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
  }

  function showToast(text) {
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(showToast.timer);
    showToast.timer = setTimeout(() => { toast.hidden = true; }, 4000);
  }

  // --- seconds spent on a sentence ------------------------------------------------------
  function banked(id) {
    const extra = id === focusedId ? (performance.now() - focusStartedAt) / 1000 : 0;
    return (secondsSpent.get(id) || 0) + extra;
  }

  function bankFocusedTime() {
    if (focusedId === null) return;
    secondsSpent.set(focusedId, banked(focusedId));
    focusStartedAt = performance.now();
  }

  // --- focus -----------------------------------------------------------------------------
  function markTarget(row) {
    const groups = row.querySelectorAll(".layer-stance");
    if (targetIndex >= groups.length) targetIndex = 0;
    groups.forEach((group, index) => group.classList.toggle("is-active-target", index === targetIndex));
  }

  function focusRow(row, { scroll = true } = {}) {
    if (!row) return;
    bankFocusedTime();
    rows().forEach((other) => other.classList.remove("is-focused"));
    row.classList.add("is-focused");
    if (row.dataset.sentence !== focusedId) targetIndex = 0;
    focusedId = row.dataset.sentence;
    focusStartedAt = performance.now();
    markTarget(row);
    if (document.activeElement !== row && !row.contains(document.activeElement)) {
      row.focus({ preventScroll: true });
    }
    if (scroll) row.scrollIntoView({ block: "nearest", behavior: "auto" });
  }

  function focusedRow() {
    return focusedId === null ? null : rowById(focusedId);
  }

  function move(step) {
    const all = rows();
    const index = all.indexOf(focusedRow());
    const next = all[Math.min(Math.max(index + step, 0), all.length - 1)];
    focusRow(next);
  }

  function focusNextUnlabelled(fromRow) {
    const all = rows();
    const start = all.indexOf(fromRow);
    const after = all.slice(start + 1).concat(all.slice(0, start));
    const next = after.find((row) => row.dataset.complete !== "true");
    if (next) {
      focusRow(next);
    } else {
      focusRow(fromRow);
      showToast("Every sentence is labelled. Press Enter on the last sentence to finish.");
    }
  }

  // --- labelling ---------------------------------------------------------------------------
  function buttonFor(row, key) {
    const selector = 'button[data-key="' + CSS.escape(key) + '"]';
    const claim = row.querySelector(".layer-claim " + selector);
    if (claim) return claim;
    const group = row.querySelectorAll(".layer-stance")[targetIndex];
    return group ? group.querySelector(selector) : null;
  }

  function press(row, key) {
    const button = buttonFor(row, key);
    if (!button) return false;
    button.click();
    return true;
  }

  // Runs before htmx serialises the form (capture phase), for mouse and keyboard alike.
  document.addEventListener("click", (event) => {
    const button = event.target.closest(".sentence-row button.choice");
    if (!button) return;
    const row = button.closest(".sentence-row");
    if (row.dataset.sentence !== focusedId) focusRow(row, { scroll: false });
    const field = row.querySelector("input[data-seconds]");
    if (field) field.value = banked(focusedId).toFixed(1);
    secondsSpent.set(focusedId, 0);
    focusStartedAt = performance.now();
    busy = true;
    advanceAfterSave = true;
  }, true);

  // A click anywhere in a row focuses it (but not while using its note field).
  article.addEventListener("click", (event) => {
    const row = event.target.closest(".sentence-row");
    if (row && !isTyping(event.target) && row.dataset.sentence !== focusedId) {
      focusRow(row, { scroll: false });
    }
  });

  function updateProgress() {
    const all = rows();
    const done = all.filter((row) => row.dataset.complete === "true").length;
    const box = document.getElementById("article-progress");
    if (!box) return;
    box.querySelector("progress").value = done;
    box.querySelector("[data-progress-figures]").textContent = done + " / " + all.length + " sentences";
  }

  // After settling: htmx restores the class attribute of a swapped element while it settles.
  document.body.addEventListener("htmx:afterSettle", (event) => {
    updateProgress();
    // An outerHTML swap replaced the target; the new row carries the same id.
    const targetId = event.detail.target && event.detail.target.id;
    const current = targetId && targetId.startsWith("s-") ? document.getElementById(targetId) : null;
    if (!current) return;
    const fromUndo = event.detail.requestConfig && event.detail.requestConfig.elt === undoForm;
    if (fromUndo) {
      focusRow(current);
      showToast("Undone.");
    } else if (current.dataset.sentence === focusedId) {
      current.classList.add("is-focused");
      markTarget(current);
      if (advanceAfterSave && current.dataset.complete === "true") {
        focusNextUnlabelled(current);
      } else if (!isTyping(document.activeElement)) {
        current.focus({ preventScroll: true });
      }
    }
    requestDone();
  });

  function requestDone() {
    busy = false;
    advanceAfterSave = false;
    while (!busy && queuedKeys.length) handleKey(queuedKeys.shift());
  }

  function forgetRequest() {
    queuedKeys.length = 0; // keys typed after a failed save would land in the wrong place
    requestDone();
  }

  document.body.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt === undoForm && event.detail.xhr && event.detail.xhr.status === 204) {
      showToast("Nothing to undo.");
      requestDone();
    }
  });
  document.body.addEventListener("htmx:responseError", (event) => {
    forgetRequest();
    const text = event.detail.xhr.responseText;
    showToast(text && text.length < 300 && !text.includes("<") ? text : "Not saved: the server refused it (" + event.detail.xhr.status + ").");
  });
  document.body.addEventListener("htmx:sendError", (event) => {
    forgetRequest();
    showToast("Not saved: the server cannot be reached. Check your connection and press the key again.");
  });

  // --- keys --------------------------------------------------------------------------------
  function toggleHelp() {
    if (help.open) help.close(); else help.showModal();
  }

  // Returns true when the key was ours (so the browser's default is suppressed).
  function handleKey({ key, shiftKey }) {
    const row = focusedRow();
    switch (key) {
      case "j":
      case "ArrowDown":
        move(1);
        return true;
      case "k":
      case "ArrowUp":
        move(-1);
        return true;
      case "?":
        toggleHelp();
        return true;
      case "u":
        bankFocusedTime();
        busy = true;
        undoForm.requestSubmit();
        return true;
      case "Tab": {
        // Only a focused row (not a button inside it) turns Tab into "next stance target".
        if (!row || document.activeElement !== row) return false;
        const count = row.querySelectorAll(".layer-stance").length;
        const next = targetIndex + (shiftKey ? -1 : 1);
        if (count < 2 || next < 0 || next >= count) return false;
        targetIndex = next;
        markTarget(row);
        return true;
      }
      case "Enter": {
        const all = rows();
        // Enter on a button or link keeps its usual meaning.
        const onRow = document.activeElement === row || document.activeElement === document.body;
        if (!row || row !== all[all.length - 1] || !onRow) return false;
        bankFocusedTime();
        finishForm.requestSubmit();
        return true;
      }
      default:
        return Boolean(row && key.length === 1 && press(row, key));
    }
  }

  const OUR_KEYS = new Set(["j", "k", "ArrowDown", "ArrowUp", "?", "u", "Tab", "Enter"]);

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) return;
    if (help.open) {
      if (event.key === "?") { event.preventDefault(); help.close(); }
      return; // Esc closes the dialog natively
    }
    const keyPress = { key: event.key, shiftKey: event.shiftKey };
    if (busy) {
      const row = focusedRow();
      if (OUR_KEYS.has(event.key) || (row && event.key.length === 1 && row.querySelector('button[data-key="' + CSS.escape(event.key) + '"]'))) {
        event.preventDefault();
        queuedKeys.push(keyPress);
      }
      return;
    }
    if (handleKey(keyPress)) event.preventDefault();
  });

  // --- start: the sentence in the URL's #anchor, else the first unlabelled one ------------
  const anchored = location.hash.startsWith("#s-") ? document.getElementById(location.hash.slice(1)) : null;
  const first = anchored || rows().find((row) => row.dataset.complete !== "true") || rows()[0];
  if (first) focusRow(first, { scroll: Boolean(anchored) });
})();
