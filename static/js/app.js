/* IncidentOps portal behaviour. No inline scripts anywhere (CSP): everything
   interactive is htmx attributes or this file. */
(function () {
  "use strict";

  function formatLeft(ms) {
    var past = ms < 0;
    var total = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(total / 1440);
    var hours = Math.floor((total % 1440) / 60);
    var minutes = total % 60;
    var text = days ? days + "d " + hours + "h" : hours ? hours + "h " + minutes + "m" : minutes + "m";
    return past ? "overdue by " + text : text + " left";
  }

  // <time data-countdown datetime="ISO">: keeps "3h 12m left" current between
  // server refreshes; the server-rendered text is the no-JS fallback.
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("datetime"));
      if (isNaN(at)) return;
      var left = at - now;
      el.textContent = formatLeft(left);
      el.classList.toggle("overdue", left < 0);
    });
  }

  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSettle", tick);
  setInterval(tick, 30000);
})();
