// The console's only script (CSP: script-src 'self'). Two jobs:
// 1. a form that came back with errors: move keyboard focus to the error summary;
// 2. a queued or running run: poll its status (JSON API) and reload the page once it has ended.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
    var box = document.querySelector("[data-follow]");
    if (!box) { return; }
    var url = box.getAttribute("data-follow");
    var text = box.querySelector(".c-status-text");
    var badge = box.querySelector(".q-status");
    var polls = 0;
    var live = { queued: true, running: true };
    function poll() {
      polls += 1;
      if (polls > 1800) { return; }  // about an hour at 2 s: a longer run needs a manual reload
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (run) {
          if (!run) { setTimeout(poll, 5000); return; }
          if (!live[run.status]) { window.location.reload(); return; }
          if (badge.textContent !== run.status) {
            badge.textContent = run.status;
            badge.className = "q-status q-status-" + run.status;
            text.textContent = run.status === "running" ? "Running since " + (run.started_at || "").replace("T", " ").slice(0, 16) + " UTC." : text.textContent;
          }
          setTimeout(poll, 2000);
        })
        .catch(function () { setTimeout(poll, 5000); });
    }
    setTimeout(poll, 1500);
  });
})();
