// Curation keyboard: j/k move between sentences, a label's key settles the current one,
// Enter confirms a majority pre-fill, "/" jumps to the note field and Esc leaves it.
// Every action clicks a real button of a real form, so htmx (or a plain POST) does the work.
(function () {
  "use strict";

  const list = document.querySelector("[data-curation]");
  if (!list) {
    return;
  }
  let currentId = null;

  function items() {
    return Array.from(list.querySelectorAll(".curation-item"));
  }

  function current() {
    return currentId ? document.getElementById(currentId) : null;
  }

  function select(item) {
    items().forEach((other) => other.classList.remove("current"));
    if (!item) {
      currentId = null;
      return;
    }
    currentId = item.id;
    item.classList.add("current");
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    const all = items();
    const index = all.indexOf(current());
    const next = all[Math.min(Math.max(index + step, 0), all.length - 1)];
    if (next) {
      select(next);
    }
  }

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (typing(event.target)) {
      if (event.key === "Escape") {
        event.target.blur();
        const item = event.target.closest(".curation-item");
        if (item) {
          select(item);
        }
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
    } else if (event.key === "Enter") {
      const confirm = item.querySelector("[data-confirm]");
      if (confirm) {
        event.preventDefault();
        confirm.click();
      }
    } else if (event.key === "/") {
      event.preventDefault();
      item.querySelector("input[name=note]").focus();
    } else {
      const button = Array.from(item.querySelectorAll("button[data-key]")).find(
        (candidate) => candidate.dataset.key === event.key
      );
      if (button) {
        event.preventDefault();
        button.click();
      }
    }
  });

  // Clicking anywhere in a sentence makes it the current one.
  list.addEventListener("click", (event) => {
    const item = event.target.closest(".curation-item");
    if (item && item.id !== currentId) {
      select(item);
    }
  });

  // After htmx swaps a settled sentence in, move on to the next one.
  document.body.addEventListener("htmx:afterSwap", (event) => {
    const swapped = event.detail.target;
    if (!swapped || !swapped.id || swapped.id !== currentId) {
      return;
    }
    const fresh = document.getElementById(currentId);
    select(fresh);
    if (fresh && fresh.classList.contains("settled")) {
      move(1);
    }
  });

  select(items()[0] || null);
})();
