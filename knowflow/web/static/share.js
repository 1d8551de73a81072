// The Share page: a publish says it is under way (it can take seconds) and cannot be
// sent twice; the message of the last action takes the focus.
"use strict";

(() => {
  for (const form of document.querySelectorAll("form.publish")) {
    form.addEventListener("submit", () => {
      const button = form.querySelector("button[type=submit]");
      // Disabled after the browser has taken the form's fields (a disabled button
      // would not be sent, but this one carries no value of its own anyway).
      setTimeout(() => { button.disabled = true; }, 0);
      form.querySelector(".busy").textContent = "Publishing…";
    });
  }

  // A message from the last action is where the eye should go.
  const message = document.querySelector(".share-message");
  if (message) {
    message.setAttribute("tabindex", "-1");
    message.focus({ preventScroll: false });
  }
})();
