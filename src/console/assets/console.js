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
    var text = target.getAttribute("data-copy") || target.textContent || "";
    if (navigator.clipboard) navigator.clipboard.writeText(text).then(function () { target.setAttribute("data-copied", "yes"); });
  });
  // <form data-confirm="question">: asks before submitting (reset).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var question = form.getAttribute("data-confirm");
    if (question !== null && !window.confirm(question)) event.preventDefault();
  });
  // <table data-stream="/_secretslite/ui/calls/stream?..." data-stream-max="100">: each server-sent `call` event is one
  // call as JSON (src/console/calls.ts CallEvent), made into a row with textContent only (never markup from the
  // stream) and put first; rows beyond the maximum go.
  function cell(row, text, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    if (text instanceof Node) td.appendChild(text); else td.textContent = text;
    row.appendChild(td);
    return td;
  }
  function callRow(call) {
    var row = document.createElement("tr");
    row.className = call.status >= 400 ? "call-error" : "call-ok";
    row.setAttribute("data-request-id", call.requestId);
    var time = document.createElement("time");
    time.setAttribute("datetime", call.time);
    time.textContent = call.time;
    cell(row, time);
    cell(row, call.service);
    cell(row, call.operation);
    cell(row, call.principal);
    cell(row, call.resource);
    cell(row, String(call.status), "status");
    cell(row, call.errorCode, "error-code").title = call.errorMessage;
    cell(row, Number(call.durationMs).toFixed(1), "number");
    var link = document.createElement("a");
    link.href = call.detail;
    link.textContent = call.requestId;
    cell(row, link);
    return row;
  }
  document.querySelectorAll("[data-stream]").forEach(function (element) {
    var url = element.getAttribute("data-stream");
    if (!url || typeof EventSource === "undefined") return;
    var body = element instanceof HTMLTableElement ? element.tBodies[0] : element;
    if (!body) return;
    var max = Number(element.getAttribute("data-stream-max") || "100");
    var source = new EventSource(url);
    source.addEventListener("call", function (event) {
      var call;
      try { call = JSON.parse(event.data); } catch (error) { return; }
      body.insertBefore(callRow(call), body.firstElementChild);
      while (body.children.length > max && body.lastElementChild) body.removeChild(body.lastElementChild);
    });
  });
})();
