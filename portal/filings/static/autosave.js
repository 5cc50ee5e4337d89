// Never lose the last keystrokes: if the page is left (reload, close, navigation) before the
// debounced htmx autosave has run, send the form once more with sendBeacon. The form carries
// its CSRF token as a hidden field. Without JavaScript the "保存草稿" button does the same job.
(function () {
  "use strict";
  var form = document.getElementById("filing-form");
  if (!form || !navigator.sendBeacon) return;
  // Count edits; a save covers the edits made before it was sent, not those typed meanwhile.
  var edits = 0, saved = 0;
  function edited() { edits += 1; }
  form.addEventListener("input", edited);
  form.addEventListener("change", edited);
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt === form) event.detail.requestConfig.editsAtSend = edits;
  });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var config = event.detail.requestConfig || {};
    if (event.detail.elt === form && event.detail.successful && config.editsAtSend !== undefined) {
      saved = Math.max(saved, config.editsAtSend);
    }
  });
  // A normal submit (save, check and submit, upload) carries the same fields itself.
  form.addEventListener("submit", function () { saved = edits; });
  function flush() {
    if (edits <= saved) return;
    var data = new FormData(form);
    data.delete("file");
    navigator.sendBeacon(form.getAttribute("action"), data);
    saved = edits;
  }
  window.addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flush();
  });
})();
