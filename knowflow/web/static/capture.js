// The bookmarklet's window: Close closes it (it was opened by the bookmarklet);
// a window the browser will not let a page close says so instead.
"use strict";

(() => {
  for (const button of document.querySelectorAll(".close-window")) {
    button.addEventListener("click", () => {
      window.close();
      setTimeout(() => {
        if (!window.closed) button.textContent = "You can close this window";
      }, 200);
    });
  }
  const tags = document.getElementById("capture-tags");
  if (tags) tags.focus();
})();
