// knowflow's local app: what every page shares. Page-specific behaviour lives in its
// own file (read.js, edit.js, graph.js ...), loaded by that page's template.
"use strict";

const knowflow = (() => {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  // Every state-changing request htmx makes carries the CSRF token.
  document.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers["X-CSRF-Token"] = csrf();
  });

  // A change made with fetch() from a page's own script.
  async function post(url, body = {}) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "X-CSRF-Token": csrf(), "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    if (!response.ok) {
      throw new Error(`${response.status}: ${await response.text()}`);
    }
    return response.headers.get("content-type")?.includes("json") ? response.json() : response.text();
  }

  // Keys typed into a field are text, not commands.
  function typing(event) {
    const t = event.target;
    return t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName);
  }

  return { csrf, post, typing };
})();
