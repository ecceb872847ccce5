// Chat threads: fetch new (and corrected or hidden) messages every few seconds while the page is visible.
// Progressive enhancement only: without JavaScript the thread works by reloading ("Aktualisieren").
(function () {
  "use strict";
  var list = document.querySelector("[data-chat-poll]");
  if (!list || !window.fetch || !("content" in document.createElement("template"))) { return; }
  var url = list.getAttribute("data-chat-poll");
  var since = list.getAttribute("data-since") || "";
  var base = (parseInt(list.getAttribute("data-interval"), 10) || 10) * 1000;
  var interval = base;
  var timer = null;
  var busy = false;

  function lastId() {
    var items = list.querySelectorAll("[data-message-id]");
    var max = 0;
    for (var i = 0; i < items.length; i++) {
      max = Math.max(max, parseInt(items[i].getAttribute("data-message-id"), 10) || 0);
    }
    return max;
  }

  function merge(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var items = template.content.querySelectorAll("[data-message-id]");
    for (var i = 0; i < items.length; i++) {
      var existing = document.getElementById(items[i].id);
      if (existing) { existing.replaceWith(items[i]); } else { list.appendChild(items[i]); }
    }
    var empty = document.querySelector(".wp-chat-page .wp-empty");
    if (items.length && empty) { empty.remove(); }
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(poll, interval);
  }

  function poll() {
    if (document.hidden || busy) { schedule(); return; }
    busy = true;
    var query = "?nach=" + lastId() + "&seit=" + encodeURIComponent(since);
    window.fetch(url + query, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        since = response.headers.get("X-Chat-Since") || since;
        return response.status === 200 ? response.text() : "";
      })
      .then(function (html) { if (html) { merge(html); } interval = base; })
      .catch(function () { interval = Math.min(interval * 2, 5 * 60 * 1000); })
      .then(function () { busy = false; schedule(); });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { window.clearTimeout(timer); poll(); }
  });
  schedule();
})();
