// The note page: "e" opens the editor (not while typing in a field).
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
})();
