// The review page: after an answer, the next item's first button takes the focus, so
// a review can be done from the keyboard alone. The forms work without this script.
document.addEventListener("DOMContentLoaded", () => {
  const flash = document.querySelector(".flash");
  const first = document.querySelector("form.answers button");
  if (flash && first) first.focus();
});
