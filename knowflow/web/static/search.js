// Search: results come as you type (htmx, from the form's attributes); this file says
// what changed to screen readers and gives the search field a key.
"use strict";

(() => {
  const field = document.getElementById("q");
  const announce = document.getElementById("search-announce");
  if (!field || !announce) return;

  // The results region is replaced as a whole, so a status inside it would be read
  // (or not) as new content; one live region that stays says how many were found.
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id !== "results") return;
    const status = event.detail.target.querySelector("p");
    announce.textContent = status ? status.textContent.replace(/\s+/g, " ").trim() : "";
  });

  // "/" goes to the search field, as on most sites with search.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "/" || knowflow.typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
    event.preventDefault();
    field.focus();
    field.select();
  });
})();
