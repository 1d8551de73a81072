// The editor: Write/Preview tabs on a phone, Ctrl+S to save, and a warning before
// leaving with changes not saved. The preview itself is htmx (see edit.html).
"use strict";

(() => {
  const form = document.getElementById("editor");
  if (!form) return;
  const textarea = form.querySelector("textarea[name=text]");
  const tabs = form.querySelectorAll(".edit-tabs button[data-pane]");

  function show(pane) {
    form.classList.toggle("show-write", pane === "write");
    form.classList.toggle("show-preview", pane === "preview");
    tabs.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.pane === pane)));
  }
  if (tabs.length) {
    form.classList.add("tabbed");
    show("write");
    tabs.forEach((b) => b.addEventListener("click", () => show(b.dataset.pane)));
  }

  const saved = textarea.value;
  let leaving = false;
  form.addEventListener("submit", () => { leaving = true; });
  window.addEventListener("beforeunload", (event) => {
    if (!leaving && textarea.value !== saved) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
      event.preventDefault();
      leaving = true;
      form.requestSubmit();
    }
  });
})();
