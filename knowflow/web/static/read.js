// The Read page: keyboard triage, and a reading pane that changes in place.
// Without this file every link and form still works (each change POSTs and redirects);
// with it, j/k move through the list and open entries beside it, and triage happens
// without leaving the page. Requests say so in the X-Knowflow-Read header: the app
// then answers with the pane (or JSON) instead of a redirect.
"use strict";

(() => {
  const list = document.getElementById("read-entries");
  const pane = document.getElementById("read-pane");
  const status = document.getElementById("read-status");
  const keys = document.getElementById("read-keys");
  const SCRIPTED = { "X-Knowflow-Read": "1" };
  // The width at which read.css puts the list and the pane side by side.
  const sideBySide = window.matchMedia("(min-width: 56rem)");
  let selected = null;

  const rows = () => (list ? [...list.querySelectorAll(".read-row")] : []);
  const article = () => pane && pane.querySelector(".read-entry");
  let quiet = null;
  // Say what a change did, for a while (the status region announces it).
  function say(text) {
    if (!status) return;
    status.textContent = text;
    clearTimeout(quiet);
    quiet = setTimeout(() => { status.textContent = ""; }, 8000);
  }

  async function request(url, init = {}) {
    const response = await fetch(url, {
      credentials: "same-origin",
      ...init,
      headers: { ...SCRIPTED, "X-CSRF-Token": knowflow.csrf(), ...(init.headers || {}) },
    });
    if (!response.ok) {
      throw new Error(`${response.status}: ${(await response.text()).slice(0, 300)}`);
    }
    return response;
  }

  // The row of the list that shows the entry with this id, if it is listed.
  const rowOf = (id) => document.getElementById(`entry-${id}`);

  // A row says the state its entry is in now (after reading or triage).
  function syncRow(entry) {
    const row = entry && rowOf(entry.dataset.id);
    if (!row) return;
    setState(row, entry.dataset.state, entry.querySelector(".read-state-now")?.textContent || "");
  }

  function setState(row, state, words) {
    recount(row, row.dataset.state, state);
    row.dataset.state = state;
    setWords(row, words);
  }

  // The unread counts beside the sources follow what was read or marked unread.
  function recount(row, before, after) {
    const delta = (after === "new") - (before === "new");
    if (!delta) return;
    const counts = [
      ...document.querySelectorAll(`[data-unread-source="${CSS.escape(row.dataset.source)}"]`),
      ...document.querySelectorAll(`[data-unread-kind="${CSS.escape(row.dataset.kind)}"]`),
      ...document.querySelectorAll("[data-unread-total], [data-unread-view]"),
    ];
    for (const count of counts) {
      const number = count.firstChild;
      number.textContent = String(Math.max(0, parseInt(number.textContent, 10) + delta));
    }
  }

  function setWords(row, words) {
    const label = row.querySelector(".read-state");
    if (!label) return;
    label.textContent = `· ${words}`;
    label.classList.toggle("visually-hidden", row.dataset.state === "new");
  }

  function showPane(html) {
    const doc = new DOMParser().parseFromString(html, "text/html");
    const entry = doc.querySelector(".read-entry");
    if (!entry) throw new Error("the app answered without an entry");
    const hadFocus = pane.contains(document.activeElement);
    pane.replaceChildren(document.adoptNode(entry));
    pane.scrollTop = 0;
    syncRow(entry);
    if (hadFocus) pane.focus({ preventScroll: true });
    const notice = entry.querySelector(".read-notice");
    if (notice) say(notice.textContent);
  }

  function failed(error) {
    say(`That did not work: ${error.message}`);
  }

  async function open(url) {
    try {
      const html = await (await request(url)).text();
      if (status) status.textContent = ""; // "Fetching the page…" is over
      showPane(html);
      history.replaceState(null, "", url);
    } catch (error) {
      failed(error);
    }
  }

  function select(row, { opening = true, focus = true } = {}) {
    if (!row) return;
    if (selected) {
      selected.classList.remove("is-selected");
      selected.removeAttribute("aria-current");
    }
    selected = row;
    row.classList.add("is-selected");
    row.setAttribute("aria-current", "true");
    const link = row.querySelector(".read-title");
    if (focus) link.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
    if (opening && sideBySide.matches) open(link.href);
  }

  // j/k: the next or previous row; where no list is shown (an entry on its own page,
  // on a phone), the entry's own next and previous links.
  function step(by) {
    const all = rows();
    const shown = sideBySide.matches || !article();
    if (!all.length || !shown) {
      const link = pane && pane.querySelector(by > 0 ? "a[rel=next]" : "a[rel=prev]");
      if (link) location.href = link.href;
      return;
    }
    const at = all.indexOf(selected);
    const next = at < 0 ? all[by > 0 ? 0 : all.length - 1] : all[at + by];
    const more = list.querySelector(".read-more a");
    if (next) select(next);
    else if (by > 0 && more) loadMore(more).then((loaded) => loaded && step(1));
    else if (by > 0) say("That was the last entry listed.");
  }

  function submit(action) {
    const form = pane && pane.querySelector(`form[data-action="${action}"]`);
    if (form) form.requestSubmit();
  }

  async function triage(form) {
    const body = new FormData(form);
    if (form.dataset.action === "above" && list) body.set("listed_at", list.dataset.listedAt);
    try {
      const response = await request(form.action, { method: "POST", body });
      if (form.dataset.action === "above") {
        const { marked } = await response.json();
        markAbove(Number(article()?.dataset.id));
        say(`${marked} ${marked === 1 ? "entry" : "entries"} marked read.`);
      } else {
        showPane(await response.text());
      }
    } catch (error) {
      failed(error);
    }
  }

  // Rows above the entry read become read, as the app marked them.
  function markAbove(id) {
    for (const row of rows()) {
      if (Number(row.dataset.id) === id) break;
      if (row.dataset.state === "new") setState(row, "seen", "read");
    }
  }

  function original() {
    const link = article()?.dataset.link || selected?.dataset.link;
    if (link) window.open(link, "_blank", "noopener,noreferrer");
  }

  function comment() {
    const box = document.getElementById("read-comment");
    if (box) box.focus();
  }

  function toggleKeys() {
    if (!keys) return;
    keys.open = !keys.open;
    if (keys.open) keys.querySelector("summary").focus();
  }

  const COMMANDS = {
    j: () => step(1),
    k: () => step(-1),
    o: original,
    e: () => submit("keep"),
    n: comment,
    d: () => submit("dismiss"),
    m: () => submit("toggle"),
    A: () => submit("above"),
    "?": toggleKeys,
  };

  // Single-key shortcuts can be turned off (WCAG 2.1.4); the choice is remembered.
  const STORED = "knowflow.read.keys";
  const keysOn = document.getElementById("read-keys-on");
  if (keysOn) {
    keysOn.closest("[hidden]")?.removeAttribute("hidden");
    keysOn.checked = localStorage.getItem(STORED) !== "off";
    keysOn.addEventListener("change", () => {
      localStorage.setItem(STORED, keysOn.checked ? "on" : "off");
    });
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) {
      // Ctrl+Enter in the note box keeps the entry with the note.
      if (event.key === "Enter" && event.target.id === "read-comment") {
        event.preventDefault();
        submit("keep");
      }
      return;
    }
    if (event.key === "Escape" && keys && keys.open) {  // the shortcuts' panel closes too
      keys.open = false;
      return;
    }
    if (keysOn && !keysOn.checked) return;
    if (knowflow.typing(event)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const command = COMMANDS[event.key];
    if (!command) return;
    event.preventDefault();
    command();
  });

  if (pane) {
    // The page's full text (and back to the feed's) comes into the pane too.
    pane.addEventListener("click", (event) => {
      const link = event.target.closest(".read-full, .read-feed-text");
      if (!link || !sideBySide.matches || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      say("Fetching the page…");
      open(link.href);
    });
    pane.addEventListener("submit", (event) => {
      const form = event.target;
      if (!form.dataset.action) return;
      event.preventDefault();
      triage(form);
    });
  }

  if (list) {
    list.addEventListener("click", (event) => {
      const more = event.target.closest(".read-more a");
      if (more) {
        event.preventDefault();
        loadMore(more);
        return;
      }
      const link = event.target.closest(".read-title");
      if (!link || !sideBySide.matches || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      select(link.closest(".read-row"));
    });
  }

  // The next page of the list, appended in place of its "More entries" link.
  async function loadMore(link) {
    try {
      const html = await (await request(link.dataset.rows)).text();
      const holder = document.createElement("template");
      holder.innerHTML = html;
      link.closest("li").replaceWith(holder.content);
      return true;
    } catch (error) {
      failed(error);
      return false;
    }
  }

  // Filters apply as soon as one is chosen.
  for (const choice of document.querySelectorAll(".read-filters select")) {
    choice.addEventListener("change", () => choice.form.requestSubmit());
  }

  // On a phone the sources fold away above the list; the list comes first.
  const sources = document.getElementById("read-sources");
  if (sources && !sideBySide.matches) sources.open = false;

  if (status && status.textContent.trim()) say(status.textContent.trim());

  // An entry opened on its own page: its row, if listed, is where j and k start.
  const opened = article();
  if (opened) {
    syncRow(opened); // the list was drawn before opening it marked it read
    select(rowOf(opened.dataset.id), { opening: false, focus: false });
  }
})();
