/*
 * Curation keyboard: j/k move between sentences, a label's key settles the current one, Enter
 * confirms a majority pre-fill, "/" jumps to the note field and Esc leaves it.
 *
 * Settling moves on at once: the next sentence still to settle becomes current before the
 * server answers, so the next key is for it and never re-settles the one just done. Changing a
 * settled sentence takes an explicit move back (k or a click). The settle itself goes through
 * saving.js (in order, retried when the failure is temporary); the sentence shows the choice at
 * once and "Not saved" while it fails. Without this file the forms post and redirect.
 */
(function () {
  "use strict";

  const list = document.querySelector("[data-curation]");
  if (!list || !window.AnnotatorSaving) return;
  const toast = document.getElementById("toast");

  let currentId = null;
  let lastId = null; // where j/k continue from once nothing is left to settle
  const stored = new Map(); // item id -> id of the chosen gold choice as the server last sent
  const notSaved = new Set();

  const items = () => Array.from(list.querySelectorAll(".curation-item"));
  const current = () => (currentId ? document.getElementById(currentId) : null);

  function say(text, { lasting = false } = {}) {
    if (!toast) return;
    toast.textContent = text;
    toast.hidden = false;
    toast.classList.toggle("problem", lasting);
    clearTimeout(say.timer);
    if (!lasting) say.timer = setTimeout(() => { toast.hidden = true; }, 4000);
  }

  function readStored(item) {
    const chosen = item.querySelector(".settle button.chosen");
    stored.set(item.id, chosen ? chosen.value : "");
  }

  const changesOf = (id) => saving.pending().filter((change) => change.itemId === id);

  // Settled as far as the person is concerned: by the server, or by a change on its way.
  function isSettled(item) {
    return item.classList.contains("settled") || changesOf(item.id).length > 0;
  }

  function paint(item) {
    const changes = changesOf(item.id);
    const failing = changes.some((change) => change.state === "retrying");
    let chosen = stored.get(item.id);
    if (!failing) {
      changes.forEach((change) => { if (change.choice) chosen = change.choice; });
    }
    item.querySelectorAll(".settle button.choice").forEach((button) => {
      button.classList.toggle("chosen", button.value === chosen);
    });
    let state = "";
    let words = "";
    if (failing) [state, words] = ["retrying", "Not saved: trying again…"];
    else if (changes.length) [state, words] = ["saving", "Saving…"];
    else if (notSaved.has(item.id)) [state, words] = ["failed", "Not saved"];
    const badge = item.querySelector("[data-save-state-text]");
    badge.textContent = words;
    badge.hidden = !words;
    if (state) item.dataset.saveState = state;
    else delete item.dataset.saveState;
  }

  function paintAll() {
    items().forEach(paint);
  }

  function select(item, { scroll = true } = {}) {
    items().forEach((other) => other.classList.remove("current"));
    currentId = item ? item.id : null;
    if (!item) return;
    lastId = item.id;
    item.classList.add("current");
    item.focus({ preventScroll: true });
    if (scroll) item.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    if (!current() && lastId) {
      // Nothing is current after the last decision: j or k first return to that sentence.
      select(document.getElementById(lastId));
      return;
    }
    const all = items();
    const from = all.indexOf(current() || document.getElementById(lastId));
    const next = all[Math.min(Math.max(from + step, 0), all.length - 1)];
    if (next) select(next);
  }

  // After a decision: the next sentence on the page still to settle, never one before it.
  function moveOn(item) {
    const all = items();
    const next = all.slice(all.indexOf(item) + 1).find((each) => !isSettled(each));
    if (next) {
      select(next);
      return;
    }
    select(null);
    lastId = item.id;
    const more = document.querySelector(".pagination a[rel=next]");
    say(more
      ? "Everything on this page is settled. The next page has more (press j or k to stay here)."
      : "Everything here is settled. Press k to go back to a sentence and change it.");
    if (more) more.focus();
  }

  function decide(item, form, submitter) {
    const body = new FormData(form);
    if (submitter && submitter.name) body.set(submitter.name, submitter.value);
    const change = { itemId: item.id, url: form.action, body };
    if (submitter && submitter.value && form.classList.contains("settle")) {
      change.choice = submitter.value;
    }
    const note = form.querySelector("input[name=note]");
    if (note) note.blur();
    saving.push(change);
    moveOn(item);
  }

  // --- answers from the server ---------------------------------------------------------------
  function itemFrom(html, id) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const fresh = template.content.firstElementChild;
    return fresh && fresh.classList.contains("curation-item") && fresh.id === id ? fresh : null;
  }

  function replaceItem(old, fresh) {
    const note = old.querySelector("input[name=note]");
    const typing = note && document.activeElement === note;
    old.replaceWith(fresh);
    readStored(fresh);
    if (fresh.id === currentId) {
      fresh.classList.add("current");
      if (!typing) fresh.focus({ preventScroll: true });
    }
    if (typing) {
      // A note being typed for the next decision survives the redraw.
      const field = fresh.querySelector("input[name=note]");
      field.value = note.value;
      field.focus();
    }
    paint(fresh);
  }

  function onSaved(change, { text }) {
    notSaved.delete(change.itemId);
    const old = document.getElementById(change.itemId);
    const fresh = old && itemFrom(text, change.itemId);
    if (fresh) replaceItem(old, fresh);
    else if (old) {
      // Saved, but the answer is not a card to show: what was sent is what is stored.
      if (change.choice) stored.set(change.itemId, change.choice);
      old.classList.add("settled");
    }
    if (change.tries) say("Saved after all.");
  }

  function onRetry(change, problem, { pause, tries, of }) {
    say(
      "Not saved yet: " + problem.reason + ". This is usually temporary: trying again in " +
        Math.max(1, Math.round(pause / 1000)) + " s (" + (tries + 1) + " of " + of +
        " tries). Keys you press meanwhile are kept and saved in order.",
      { lasting: true }
    );
  }

  function onGiveUp(dropped, problem, { tries, of }) {
    dropped.forEach((change) => notSaved.add(change.itemId));
    const text = problem.temporary
      ? "Not saved: " + problem.reason + ". Gave up after " + tries + " of " + of +
        " tries; this is probably temporary."
      : "Not saved: " + problem.reason + ".";
    say(text + " Sentences marked “Not saved” show their stored gold label; settle them again " +
      "when the connection is back.", { lasting: true });
  }

  const saving = window.AnnotatorSaving.createQueue({ onSaved, onRetry, onGiveUp, onChange: paintAll });

  // --- keys and clicks -----------------------------------------------------------------------
  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") {
        event.target.blur();
        const item = event.target.closest(".curation-item");
        if (item) select(item);
      } else if (event.key === "Enter" && event.target.name === "note") {
        // Enter in the note would submit without a label; settling needs a label key.
        event.preventDefault();
      }
      return;
    }
    const item = current();
    if (event.key === "j") {
      event.preventDefault();
      move(1);
    } else if (event.key === "k") {
      event.preventDefault();
      move(-1);
    } else if (!item) {
      return;
    } else if (event.key === "Enter" && (document.activeElement === item || document.activeElement === document.body)) {
      const confirm = item.querySelector("[data-confirm]");
      if (confirm) {
        event.preventDefault();
        decide(item, confirm.form, confirm);
      }
    } else if (event.key === "/") {
      event.preventDefault();
      item.querySelector("input[name=note]").focus();
    } else if (event.key.length === 1) {
      const button = Array.from(item.querySelectorAll(".settle button[data-key]")).find(
        (candidate) => candidate.dataset.key === event.key
      );
      if (button) {
        event.preventDefault();
        decide(item, button.form, button);
      }
    }
  });

  // A click on a label or on "Confirm" decides, like its key; elsewhere it selects.
  list.addEventListener("click", (event) => {
    const item = event.target.closest(".curation-item");
    if (!item) return;
    const button = event.target.closest(".settle button.choice, [data-confirm]");
    if (button) {
      event.preventDefault();
      decide(item, button.form, button);
    } else if (item.id !== currentId && !typing(event.target) && !event.target.closest("a")) {
      select(item, { scroll: false });
    }
  });

  items().forEach(readStored);
  select(items().find((item) => !isSettled(item)) || items()[0] || null);
})();
