// Live notices on every page: the server's event stream (/events) says when a note
// changed on disk (another program, Obsidian say, wrote it), how an update is going,
// and how many entries it brought. A page showing that note gets a polite banner;
// the Read page is told of new entries. Other scripts hear "knowflow:update".
"use strict";

(() => {
  if (!window.EventSource) return;
  let source = null;
  let styled = false;

  function style() {
    if (styled) return;
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "/static/live.css";
    document.head.append(link);
    styled = true;
  }

  // A small status in the page's header while an update runs or waits.
  function updateStatus(data) {
    const nav = document.querySelector("header.top nav");
    if (!nav) return;
    let status = nav.querySelector(".live-update");
    if (data.state === "finished") {
      if (status) status.remove();
      return;
    }
    style();
    if (!status) {
      status = document.createElement("a");
      status.className = "live-update";
      status.href = "/sources#update-heading";
      nav.append(status);
    }
    status.textContent = data.waiting_for
      ? `waiting for another update (pid ${data.waiting_for.pid})`
      : `updating ${data.done} of ${data.total}`;
  }

  function banner(key, text, action, onAction) {
    style();
    let box = document.querySelector(`.live-notice[data-key="${CSS.escape(key)}"]`);
    if (!box) {
      box = document.createElement("div");
      box.className = "live-notice";
      box.dataset.key = key;
      box.setAttribute("role", "status");
      const main = document.querySelector("main") || document.body;
      main.prepend(box);
    }
    box.replaceChildren(document.createTextNode(text + " "));
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = action;
    button.addEventListener("click", onAction);
    const dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "dismiss";
    dismiss.textContent = "Dismiss";
    dismiss.addEventListener("click", () => box.remove());
    box.append(button, " ", dismiss);
  }

  function noteChanged(data) {
    const shown = document.querySelector("[data-note-path]");
    if (!shown || shown.dataset.notePath !== data.path) return;
    // A page may say which version it shows: its own save is no news to it.
    if (shown.dataset.noteVersion && shown.dataset.noteVersion === data.version) return;
    const text = data.deleted ? "This note was deleted or moved on disk." : "This note changed on disk.";
    banner("note", text, "Reload", () => window.location.reload());
  }

  function entriesAdded(data) {
    if (!document.body.classList.contains("page-read") || !data.count) return;
    const words = data.count === 1 ? "1 new entry." : `${data.count} new entries.`;
    banner("entries", words, "Show", () => window.location.reload());
  }

  function on(name, handle) {
    source.addEventListener(name, (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      handle(data);
      document.dispatchEvent(new CustomEvent(`knowflow:${name}`, { detail: data }));
    });
  }

  function open() {
    source = new EventSource("/events");
    on("note-changed", noteChanged);
    on("entries-added", entriesAdded);
    on("update", updateStatus);
  }

  // Closed before the page goes, so leaving a page is not a failed request.
  window.addEventListener("pagehide", () => source && source.close());
  window.addEventListener("pageshow", (event) => {
    if (event.persisted || !source || source.readyState === EventSource.CLOSED) open();
  });
  if (!source) open();
})();
