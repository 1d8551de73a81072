// The note page: "e" opens the editor (not while typing in a field), and the
// Connections section's lists are fetched after the page is drawn (finding them reads
// many notes); without this script, its link draws the page with them.
"use strict";

(() => {
  const article = document.querySelector("article[data-note-path]");
  if (!article) return;
  document.addEventListener("keydown", (event) => {
    if (event.key !== "e" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (knowflow.typing(event)) return;
    const edit = document.querySelector(".note-bar a[href^='/edit/']");
    if (edit) window.location.href = edit.href;
  });

  const lists = document.querySelector("[data-connections-url]");
  if (!lists) return;
  lists.setAttribute("aria-busy", "true");
  fetch(lists.dataset.connectionsUrl, { credentials: "same-origin" })
    .then((response) => {
      if (!response.ok) throw new Error(`${response.status}`);
      return response.text();
    })
    .then((html) => {
      // The server's own template, escaped there; it holds no script.
      const parsed = new DOMParser().parseFromString(html, "text/html");
      lists.replaceChildren(...parsed.body.childNodes);
      lists.removeAttribute("data-connections-url");
    })
    .catch(() => {
      // The link to the page with the lists drawn in stays.
    })
    .finally(() => lists.removeAttribute("aria-busy"));
})();
