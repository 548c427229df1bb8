/*
 * Keyboard-first labelling on the article page.
 *
 * The page works without this file: every label is a submit button in a real form that posts
 * and redirects back. This module adds a focused sentence (j/k, arrows, click), the schema's
 * keys, Tab between stance targets, ! (unsure), / (note), u (undo), > (skip), ? (help), Enter on
 * the last sentence to finish, the seconds spent per sentence, and the progress bar.
 *
 * A key applies to the sentence in focus when it is pressed, and shows at once; saving.js sends
 * the changes in order and retries them. So each row has two states: the one the server last
 * sent ("stored"), and the one the person made ("intended": stored plus the changes still on
 * their way). The row shows the intended state while its changes are sent, and the stored one
 * with "Not saved" while they fail. Focus moves on by itself only when every layer the row
 * shows (claim type, each stance target) has an intended value.
 * No inline handlers anywhere, so a strict Content-Security-Policy can forbid them.
 */
(function () {
  "use strict";

  const article = document.getElementById("article");
  if (!article || !article.dataset.canLabel || !window.AnnotatorSaving) return;

  const help = document.getElementById("help");
  const toast = document.getElementById("toast");
  const undoForm = document.getElementById("undo-form");
  const finishForm = document.getElementById("finish-form");
  const skip = document.getElementById("skip");

  let focusedId = null; // data-sentence of the focused row
  let targetIndex = 0; // which stance target the stance keys apply to
  let focusStartedAt = performance.now();
  const secondsSpent = new Map(); // sentence id -> seconds not yet sent with a label
  const stored = new Map(); // sentence id -> Map(layer -> value or "") as the server last sent
  const notSaved = new Set(); // sentence ids whose last changes were given up

  const rows = () => Array.from(document.querySelectorAll(".sentence-row"));
  const rowById = (id) => document.getElementById("s-" + id);

  function isTyping(target) {
    if (!(target instanceof HTMLElement)) return false;
    return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
  }

  // A passing word disappears after a while; a problem stays until something replaces it.
  function say(text, { lasting = false } = {}) {
    toast.textContent = text;
    toast.hidden = false;
    toast.classList.toggle("problem", lasting);
    clearTimeout(say.timer);
    if (!lasting) say.timer = setTimeout(() => { toast.hidden = true; }, 4000);
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

  function takeSeconds(id) {
    const seconds = banked(id);
    secondsSpent.set(id, 0);
    if (id === focusedId) focusStartedAt = performance.now();
    return seconds.toFixed(1);
  }

  // --- the two states of a row ---------------------------------------------------------------
  function readStored(row) {
    const layers = new Map();
    row.querySelectorAll(".labels .layer").forEach((group) => {
      const chosen = group.querySelector("button.choice.selected");
      layers.set(group.dataset.layer, chosen ? chosen.value : "");
    });
    stored.set(row.dataset.sentence, layers);
  }

  const changesOf = (id) => saving.pending().filter((change) => change.rowId === id);

  function intended(id) {
    const layers = new Map(stored.get(id));
    changesOf(id).forEach((change) => {
      if (change.kind === "label") layers.set(change.layer, change.value);
    });
    return layers;
  }

  function intendedNote(row) {
    const form = row.querySelector(".note-form");
    let note = { unsure: form.elements.unsure.defaultChecked, text: form.elements.note.defaultValue };
    changesOf(row.dataset.sentence).forEach((change) => {
      if (change.kind === "note") note = change.note;
    });
    return note;
  }

  const isFilled = (id) => Array.from(intended(id).values()).every(Boolean);

  function paint(row) {
    const id = row.dataset.sentence;
    const changes = changesOf(id);
    const failing = changes.some((change) => change.state === "retrying");
    const layers = failing ? stored.get(id) : intended(id);
    row.querySelectorAll(".labels .layer").forEach((group) => {
      const value = layers.get(group.dataset.layer);
      group.querySelectorAll("button.choice").forEach((button) => {
        const on = button.value === value;
        button.classList.toggle("selected", on);
        button.setAttribute("aria-pressed", on ? "true" : "false");
        // A pre-selected suggestion is a proposal only while its layer has no label.
        button.classList.toggle("preselected", button.hasAttribute("data-preselected") && !value);
      });
    });
    const noteForm = row.querySelector(".note-form");
    const storedNote = {
      unsure: noteForm.elements.unsure.defaultChecked,
      text: noteForm.elements.note.defaultValue,
    };
    const note = failing ? storedNote : intendedNote(row);
    // The note fields show a note change on its way (or its failure); otherwise they are left
    // alone, so text typed but not yet saved is never overwritten.
    if (changes.some((change) => change.kind === "note")) {
      noteForm.elements.unsure.checked = note.unsure;
      if (document.activeElement !== noteForm.elements.note) noteForm.elements.note.value = note.text;
    }
    const unsure = row.querySelector("[data-unsure-badge]");
    unsure.textContent = note.unsure ? "? Unsure" : ""; // no flag, no words (blind annotation)
    unsure.hidden = !note.unsure;

    let state = "";
    let words = "";
    if (failing) [state, words] = ["retrying", "Not saved: trying again…"];
    else if (changes.length) [state, words] = ["saving", "Saving…"];
    else if (notSaved.has(id)) [state, words] = ["failed", "Not saved"];
    const badge = row.querySelector("[data-save-state-text]");
    badge.textContent = words;
    badge.hidden = !words;
    if (state) row.dataset.saveState = state;
    else delete row.dataset.saveState;
  }

  // Only rows with changes on their way, or that had some at the last paint, need painting: a
  // 300-sentence article is not redrawn for every key.
  let painted = new Set();
  function paintAll() {
    const ids = new Set(painted);
    saving.pending().forEach((change) => { if (change.rowId) ids.add(change.rowId); });
    notSaved.forEach((id) => ids.add(id));
    ids.forEach((id) => { const row = rowById(id); if (row) paint(row); });
    painted = new Set(Array.from(ids).filter((id) => rowById(id) && rowById(id).dataset.saveState));
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
    const active = document.activeElement;
    if (active !== row && (!row.contains(active) || isTyping(active))) {
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
    focusRow(all[Math.min(Math.max(index + step, 0), all.length - 1)]);
  }

  // The next row with a layer left to set; before wrapping round, only rows the article still
  // needs (with stance optional, a row without stance is not worth jumping back for).
  function moveOnFrom(row) {
    const all = rows();
    const start = all.indexOf(row);
    const later = all.slice(start + 1).find((each) => !isFilled(each.dataset.sentence));
    const earlier = all.slice(0, start).find(
      (each) => each.dataset.complete !== "true" && !isFilled(each.dataset.sentence)
    );
    if (later || earlier) {
      focusRow(later || earlier);
    } else {
      say("Every sentence is labelled. Press Enter on the last sentence to finish.");
    }
  }

  // --- changes -------------------------------------------------------------------------------
  function buttonFor(row, key) {
    const selector = 'button[data-key="' + CSS.escape(key) + '"]';
    const claim = row.querySelector(".layer-claim " + selector);
    if (claim) return claim;
    const group = row.querySelectorAll(".layer-stance")[targetIndex];
    return group ? group.querySelector(selector) : null;
  }

  function choose(row, button, { moveOn = true } = {}) {
    const id = row.dataset.sentence;
    const layer = button.closest(".layer").dataset.layer;
    if (intended(id).get(layer) !== button.value) {
      const form = button.form;
      const body = new FormData(form);
      body.set("label", button.value);
      body.set("seconds", takeSeconds(id));
      saving.push({ kind: "label", rowId: id, layer, value: button.value, url: form.action, body });
    }
    if (moveOn && isFilled(id)) moveOnFrom(row);
  }

  // The model's pre-selected suggestions ("preselect" mode) on layers still without a label:
  // they are only stored when the person accepts them (Enter, or the label's own key).
  function openProposals(row) {
    const layers = intended(row.dataset.sentence);
    return Array.from(row.querySelectorAll(".labels button.choice[data-preselected]")).filter(
      (button) => !layers.get(button.closest(".layer").dataset.layer)
    );
  }

  function acceptProposals(row, proposals) {
    proposals.forEach((button) => choose(row, button, { moveOn: false }));
    if (isFilled(row.dataset.sentence)) moveOnFrom(row);
    say("Accepted the model's suggestion.");
  }

  function saveNote(row, note) {
    const form = row.querySelector(".note-form");
    const body = new FormData(form);
    body.set("note", note.text);
    if (note.unsure) body.set("unsure", "on");
    else body.delete("unsure");
    saving.push({ kind: "note", rowId: row.dataset.sentence, note, url: form.action, body });
  }

  function toggleUnsure(row) {
    const note = intendedNote(row);
    saveNote(row, { unsure: !note.unsure, text: note.text });
    say(note.unsure ? "Unsure flag cleared." : "Flagged as unsure.");
  }

  function openNote(row) {
    const details = row.querySelector("details.note");
    details.open = true;
    const field = details.querySelector("input[name=note]");
    field.focus();
    field.select();
  }

  // Leaving the note field (Enter or Esc) saves what was typed, so nothing is lost by leaving.
  function leaveNote(field) {
    const row = field.closest(".sentence-row");
    const note = intendedNote(row);
    if (field.value !== note.text) saveNote(row, { unsure: note.unsure, text: field.value });
    focusRow(row, { scroll: false });
  }

  function undo() {
    bankFocusedTime();
    saving.push({ kind: "undo", url: undoForm.action, body: new FormData(undoForm), retry: false });
  }

  // Leaving the page (finish, skip) waits for the changes still on their way, and stays if
  // any of them could not be saved (the message about it is on screen).
  let givenUp = 0;
  function leaveWith(form) {
    if (!saving.busy()) {
      form.submit();
      return;
    }
    say("Saving your last changes first…", { lasting: true });
    const before = givenUp;
    saving.whenIdle(() => {
      if (givenUp === before) form.submit();
    });
  }

  // --- answers from the server ---------------------------------------------------------------
  function rowFrom(html, id) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const fresh = template.content.firstElementChild;
    return fresh && fresh.classList.contains("sentence-row") && (!id || fresh.dataset.sentence === id)
      ? fresh
      : null;
  }

  // Puts the server's row in place, keeping what the person is doing in it (focus, a note
  // being typed, an open note).
  function replaceRow(old, fresh) {
    const active = old.contains(document.activeElement) ? document.activeElement : null;
    const typing = active && isTyping(active)
      ? { name: active.name, value: active.value, start: active.selectionStart, end: active.selectionEnd }
      : null;
    const noteOpen = old.querySelector("details.note").open;
    old.replaceWith(fresh);
    readStored(fresh);
    if (noteOpen) fresh.querySelector("details.note").open = true;
    if (fresh.dataset.sentence === focusedId) {
      fresh.classList.add("is-focused");
      markTarget(fresh);
    }
    if (typing) {
      const field = fresh.querySelector('[name="' + CSS.escape(typing.name) + '"]');
      field.value = typing.value;
      field.focus();
      if (typeof typing.start === "number") field.setSelectionRange(typing.start, typing.end);
    } else if (active || (fresh.dataset.sentence === focusedId && document.activeElement === document.body)) {
      fresh.focus({ preventScroll: true });
    }
    paint(fresh);
  }

  function updateProgress() {
    const all = rows();
    const done = all.filter((row) => row.dataset.complete === "true").length;
    const box = document.getElementById("article-progress");
    if (!box) return;
    box.querySelector("progress").value = done;
    box.querySelector("[data-progress-figures]").textContent = done + " / " + all.length + " sentences";
  }

  function onSaved(change, { response, text }) {
    if (change.kind === "undo") {
      if (response.status === 204) {
        say("Nothing to undo.");
        return;
      }
      const fresh = rowFrom(text);
      const old = fresh && rowById(fresh.dataset.sentence);
      if (old) {
        replaceRow(old, fresh);
        focusRow(fresh);
        updateProgress();
      }
      say("Undone.");
      return;
    }
    const row = rowById(change.rowId);
    if (!row) return;
    notSaved.delete(change.rowId);
    const fresh = rowFrom(text, change.rowId);
    if (fresh) {
      replaceRow(row, fresh);
      updateProgress();
    } else if (change.kind === "label") {
      // Saved, but the answer is not a row to show: what was sent is what is stored now.
      stored.get(change.rowId).set(change.layer, change.value);
    } else {
      const form = row.querySelector(".note-form");
      form.elements.unsure.defaultChecked = change.note.unsure;
      form.elements.note.defaultValue = change.note.text;
    }
    if (change.tries) say("Saved after all.");
  }

  function onRetry(change, problem, { pause, tries, of }) {
    const what = change.kind === "undo" ? "Undo" : "Not saved yet";
    say(
      what + ": " + problem.reason + ". This is usually temporary: trying again in " +
        Math.max(1, Math.round(pause / 1000)) + " s (" + (tries + 1) + " of " + of +
        " tries). Keys you press meanwhile are kept and saved in order.",
      { lasting: true }
    );
  }

  function onGiveUp(dropped, problem, { tries, of }) {
    givenUp += 1;
    const undone = dropped.filter((change) => change.kind === "undo").length;
    dropped.forEach((change) => {
      if (!change.rowId) return;
      notSaved.add(change.rowId);
      // A refused label (400) comes back with the row as stored: show that.
      const fresh = problem.text && rowFrom(problem.text, change.rowId);
      const old = rowById(change.rowId);
      if (fresh && old) replaceRow(old, fresh);
    });
    const sentences = new Set(dropped.map((change) => change.rowId).filter(Boolean)).size;
    let text;
    if (!problem.temporary) {
      text = (undone ? "Undo did not go through: " : "Not saved: ") + problem.reason + ".";
    } else {
      text = "Not saved: " + problem.reason + ". Gave up after " + tries + " of " + of +
        " tries; this is probably temporary.";
    }
    if (sentences) {
      text += " " + (sentences === 1 ? "The sentence marked “Not saved” shows" :
        sentences + " sentences marked “Not saved” show") +
        " what is stored; press the keys again when the connection is back.";
    }
    if (undone) text += " Press u again to undo.";
    say(text, { lasting: true });
  }

  const saving = window.AnnotatorSaving.createQueue({ onSaved, onRetry, onGiveUp, onChange: paintAll });

  // --- mouse -----------------------------------------------------------------------------------
  document.addEventListener("click", (event) => {
    const button = event.target.closest(".sentence-row button.choice");
    if (!button) return;
    event.preventDefault(); // saved by saving.js, not by posting the form
    const row = button.closest(".sentence-row");
    if (row.dataset.sentence !== focusedId) focusRow(row, { scroll: false });
    choose(row, button);
  });

  // A click anywhere in a row focuses it (but not while using its note field).
  article.addEventListener("click", (event) => {
    const row = event.target.closest(".sentence-row");
    if (row && !isTyping(event.target) && row.dataset.sentence !== focusedId) {
      focusRow(row, { scroll: false });
    }
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.classList.contains("note-form")) {
      event.preventDefault();
      leaveNote(form.elements.note);
    } else if (form === undoForm) {
      event.preventDefault();
      undo();
    } else if (form === finishForm || (skip && skip.contains(form))) {
      event.preventDefault();
      leaveWith(form);
    }
  });

  // --- keys --------------------------------------------------------------------------------
  function toggleHelp() {
    if (help.open) help.close(); else help.showModal();
  }

  function openSkip() {
    if (!skip) return;
    skip.open = true;
    skip.querySelector("input:not([type=hidden]), textarea").focus();
  }

  // Keys typed in a text field: only leaving it is ours.
  function handleTypingKey(event) {
    const field = event.target;
    if (event.key === "Escape" && field.name === "note" && field.closest(".sentence-row")) {
      event.preventDefault();
      leaveNote(field);
    } else if (event.key === "Escape" && skip && skip.contains(field)) {
      event.preventDefault();
      skip.open = false;
      focusRow(focusedRow() || rows()[0]);
    }
  }

  // Returns true when the key was ours (so the browser's default is suppressed).
  function handleKey({ key, shiftKey }) {
    const row = focusedRow();
    // A schema key wins over the keys below it (a corpus made before they were reserved).
    const button = row && key.length === 1 ? buttonFor(row, key) : null;
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
        undo();
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
        if (!row || !onRow) return false;
        // First it accepts the row's pre-selected suggestions; on the last row, once none is
        // left, it finishes the article.
        const proposals = openProposals(row);
        if (proposals.length) {
          acceptProposals(row, proposals);
          return true;
        }
        if (row !== all[all.length - 1]) return false;
        bankFocusedTime();
        leaveWith(finishForm);
        return true;
      }
      default:
        break;
    }
    if (button) {
      choose(row, button);
      return true;
    }
    if (key === "!" && row) {
      toggleUnsure(row);
      return true;
    }
    if (key === "/" && row) {
      openNote(row);
      return true;
    }
    if (key === ">") {
      openSkip();
      return true;
    }
    return false;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) {
      handleTypingKey(event);
      return;
    }
    if (help.open) {
      if (event.key === "?") { event.preventDefault(); help.close(); }
      return; // Esc closes the dialog natively
    }
    if (handleKey({ key: event.key, shiftKey: event.shiftKey })) event.preventDefault();
  });

  // Closing the tab with changes still on their way would lose them: the browser asks first.
  window.addEventListener("beforeunload", (event) => {
    if (!saving.busy()) return;
    event.preventDefault();
    event.returnValue = ""; // older browsers ask only when this is set
  });

  // --- start: the sentence in the URL's #anchor, else the first one left to do -------------
  rows().forEach(readStored);
  const anchored = location.hash.startsWith("#s-") ? document.getElementById(location.hash.slice(1)) : null;
  const first = anchored ||
    rows().find((row) => row.dataset.complete !== "true") ||
    rows().find((row) => !isFilled(row.dataset.sentence)) ||
    rows()[0];
  if (first) focusRow(first, { scroll: Boolean(anchored) });
})();
