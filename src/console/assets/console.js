// secretslite console: the one script (CSP script-src 'self'). Progressive only: every page works without it.
"use strict";
(function () {
  // Says the script ran: a page (and the browser spec) can tell the CSP let the console's own script in.
  document.documentElement.setAttribute("data-console-script", "ready");
  // <button data-copy="text">: copies the text (CLI/SDK snippets).
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
    if (target === null) return;
    event.preventDefault();
    var text = target.getAttribute("data-copy") || "";
    if (navigator.clipboard) navigator.clipboard.writeText(text).then(function () { target.setAttribute("data-copied", "yes"); });
  });
  // <form data-confirm="question">: asks before submitting (reset).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var question = form.getAttribute("data-confirm");
    if (question !== null && !window.confirm(question)) event.preventDefault();
  });
  // <tbody data-stream="/_secretslite/ui/calls/stream?..." data-stream-max="200">: each server-sent event's data is
  // one row of HTML the server escaped (html``), put first; rows beyond the maximum go.
  document.querySelectorAll("[data-stream]").forEach(function (element) {
    var url = element.getAttribute("data-stream");
    if (!url || typeof EventSource === "undefined") return;
    var max = Number(element.getAttribute("data-stream-max") || "200");
    var source = new EventSource(url);
    source.onmessage = function (event) {
      var holder = document.createElement("tbody");
      holder.innerHTML = event.data;
      while (holder.lastElementChild) element.insertBefore(holder.lastElementChild, element.firstElementChild);
      while (element.children.length > max && element.lastElementChild) element.removeChild(element.lastElementChild);
    };
  });
})();
