// The sources page: the bookmarklet is dragged, not clicked; the update status
// follows updates started elsewhere (the schedule, another page) as live.js hears them.
"use strict";

(() => {
  const link = document.querySelector("a.bookmarklet");
  if (link) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      let hint = document.querySelector(".bookmarklet-hint");
      if (!hint) {
        hint = document.createElement("p");
        hint.className = "bookmarklet-hint";
        hint.setAttribute("role", "status");
        link.parentElement.after(hint);
      }
      hint.textContent = "Drag this link to your bookmarks bar, then click it there on the page you are reading.";
    });
  }

  // An update the page did not start: show its progress (htmx then polls it).
  document.addEventListener("knowflow:update", (event) => {
    const status = document.getElementById("update-status");
    if (!status || !window.htmx) return;
    const polling = status.hasAttribute("hx-trigger");
    if (event.detail.state !== "finished" && !polling) {
      htmx.ajax("GET", "/sources/status?was=running", { target: status, swap: "outerHTML" });
    }
  });
})();
