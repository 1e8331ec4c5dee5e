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
  // A refusal or a question the server put at the top of the page takes the
  // focus, so keyboard and screen-reader users start there.
  document.addEventListener("DOMContentLoaded", function () {
    var first = document.querySelector("[data-focus-on-load]");
    if (first) first.focus();
  });
  document.addEventListener("htmx:afterSettle", tick);
  document.addEventListener("live:updated", tick);
  setInterval(tick, 30000);
})();

/* Live pages: the board and the incident page poll themselves with
   If-None-Match (see docs/portal.md, "Live pages"). The server answers 304
   while nothing changed. The status line says when the page last heard from the
   server; after two failed polls it says so prominently and retries with
   backoff; an ended session shows a sign-in link that returns to this page.
   On the incident page only the [data-live-region] parts are swapped, never one
   the viewer is typing in (it waits until they leave it). */
(function () {
  "use strict";

  var STALE_AFTER = 2; // failed polls before the page says it is stale
  var MAX_DELAY = 60000;
  var TIMEOUT = 10000;

  function clock(date) {
    var zone = document.body.getAttribute("data-time-zone") || undefined;
    try {
      return new Intl.DateTimeFormat("en-GB", {
        hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZone: zone
      }).format(date);
    } catch (e) {
      return date.toTimeString().slice(0, 8);
    }
  }

  function isDirty(root) {
    var fields = root.querySelectorAll("input, textarea, select");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.closest("[data-live-ignore]")) continue;
      if (f.type === "hidden" || f.type === "submit" || f.type === "button") continue;
      if (f.tagName === "SELECT") {
        // With no option marked selected, a single select shows its first.
        var marked = false;
        for (var j = 0; j < f.options.length; j++) {
          if (f.options[j].defaultSelected) marked = true;
        }
        for (var k = 0; k < f.options.length; k++) {
          var wanted = marked ? f.options[k].defaultSelected : (!f.multiple && k === 0);
          if (f.options[k].selected !== wanted) return true;
        }
      } else if (f.type === "checkbox" || f.type === "radio") {
        if (f.checked !== f.defaultChecked) return true;
      } else if (f.value !== f.defaultValue) {
        return true;
      }
    }
    return false;
  }

  function busy(region) {
    var active = document.activeElement;
    var focused = active && active !== document.body && region.contains(active) &&
      active.matches("input, textarea, select, [contenteditable]");
    // A refusal's reason and the words that were refused stay until the
    // person acts on them.
    var refused = region.querySelector(".errorlist, [aria-invalid='true']");
    return focused || refused || isDirty(region) || region.hasAttribute("data-live-hold");
  }

  function keepOpenDetails(oldRegion, newRegion) {
    var before = oldRegion.querySelectorAll("details");
    var after = newRegion.querySelectorAll("details");
    if (before.length !== after.length) return;
    for (var i = 0; i < before.length; i++) after[i].open = before[i].open;
  }

  function settle(el) {
    if (window.htmx) window.htmx.process(el);
    document.dispatchEvent(new CustomEvent("live:updated", { detail: { target: el } }));
  }

  function LivePage(root) {
    this.root = root;
    this.url = root.getAttribute("data-live-url") || (location.pathname + location.search);
    this.etag = root.getAttribute("data-live-etag") || "";
    this.interval = parseInt(root.getAttribute("data-live-interval"), 10) || 5000;
    this.mode = root.getAttribute("data-live") || "replace";
    this.status = document.querySelector("[data-live-status]");
    this.failures = 0;
    this.lastHeard = new Date();
    this.signedOut = false;
    this.pending = {};
    this.timer = null;
    var self = this;
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) self.schedule(0);
    });
    document.addEventListener("focusout", function () {
      setTimeout(function () { self.applyPending(); }, 0);
    });
    document.addEventListener("htmx:afterSwap", function () { self.applyPending(); });
    this.show("live");
    this.schedule(this.interval);
  }

  LivePage.prototype.schedule = function (delay) {
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.poll(); }, delay);
  };

  LivePage.prototype.nextDelay = function () {
    if (this.signedOut) return MAX_DELAY;
    var base = document.hidden ? this.interval * 4 : this.interval;
    if (!this.failures) return base;
    return Math.min(MAX_DELAY, base * Math.pow(2, this.failures - 1));
  };

  LivePage.prototype.poll = function () {
    var self = this;
    // The incident page follows the address bar (the timeline filter pushes
    // ?kind=...), unless it shows a refused form under the POST's address.
    var own = this.url.split("?")[0];
    var url = this.mode === "regions" && location.pathname === own
      ? location.pathname + location.search : this.url;
    var controller = window.AbortController ? new AbortController() : null;
    var timeout = setTimeout(function () { if (controller) controller.abort(); }, TIMEOUT);
    var headers = { "X-Live-Poll": "1" };
    if (this.etag) headers["If-None-Match"] = this.etag;
    fetch(url, {
      headers: headers, cache: "no-store", credentials: "same-origin",
      redirect: "manual", signal: controller ? controller.signal : undefined
    }).then(function (response) {
      clearTimeout(timeout);
      if (response.status === 401 || response.type === "opaqueredirect") {
        self.signedOut = true;
        self.show("signed-out");
        return null;
      }
      if (response.status === 304) return "";
      if (!response.ok) throw new Error("HTTP " + response.status);
      self.etag = response.headers.get("ETag") || "";
      return response.text();
    }).then(function (html) {
      if (html === null) return;
      if (html) self.apply(html);
      self.failures = 0;
      self.signedOut = false;
      self.lastHeard = new Date();
      self.show("live");
    }).catch(function () {
      clearTimeout(timeout);
      self.failures += 1;
      self.show(self.failures >= STALE_AFTER ? "stale" : "live");
    }).then(function () {
      self.schedule(self.nextDelay());
    });
  };

  LivePage.prototype.apply = function (html) {
    if (this.mode !== "regions") {
      this.root.innerHTML = html;
      settle(this.root);
      return;
    }
    var doc = new DOMParser().parseFromString(html, "text/html");
    var self = this;
    doc.querySelectorAll("[data-live-region]").forEach(function (fresh) {
      if (fresh.id) self.pending[fresh.id] = fresh;
    });
    this.applyPending();
  };

  LivePage.prototype.applyPending = function () {
    var waiting = 0;
    for (var id in this.pending) {
      var current = document.getElementById(id);
      var fresh = this.pending[id];
      if (!current) { delete this.pending[id]; continue; }
      if (busy(current)) {
        current.classList.add("live-region--waiting");
        waiting += 1;
        continue;
      }
      delete this.pending[id];
      if (current.innerHTML === fresh.innerHTML) {
        current.classList.remove("live-region--waiting");
        continue;
      }
      var node = document.importNode(fresh, true);
      keepOpenDetails(current, node);
      current.replaceWith(node);
      settle(node);
    }
    this.waiting = waiting;
    if (this.status && !this.failures && !this.signedOut) this.show("live");
  };

  LivePage.prototype.announce = function (state, message) {
    // Only changes of state are announced, not each "updated" tick.
    if (state === this.announced) return;
    var first = this.announced === undefined;
    this.announced = state;
    var region = this.status && this.status.querySelector("[data-live-announce]");
    if (region && !first) region.textContent = message;
  };

  LivePage.prototype.show = function (state) {
    var el = this.status;
    if (!el) return;
    var text = el.querySelector("[data-live-text]") || el;
    var stamp = clock(this.lastHeard);
    el.classList.toggle("live-status--stale", state === "stale");
    el.classList.toggle("live-status--signed-out", state === "signed-out");
    el.setAttribute("data-state", state);
    if (state === "signed-out") {
      var next = encodeURIComponent(location.pathname + location.search + location.hash);
      text.textContent = "";
      text.appendChild(document.createTextNode(
        "Your session has ended; not updated since " + stamp + ". "));
      var link = document.createElement("a");
      link.href = "/accounts/login/?next=" + next;
      link.textContent = "Sign in again";
      link.setAttribute("data-testid", "live-sign-in");
      text.appendChild(link);
      this.announce(state, "Your session has ended. Sign in again to keep this page live.");
      return;
    }
    if (state === "stale") {
      text.textContent = "Not updated since " + stamp + " — reconnecting";
      this.announce(state, "Connection lost: this page is not updated since " + stamp + ".");
      return;
    }
    text.textContent = "Live · updated ";
    var time = document.createElement("time");
    time.setAttribute("datetime", this.lastHeard.toISOString());
    time.setAttribute("data-testid", "updated-at");
    time.textContent = stamp;
    text.appendChild(time);
    if (this.waiting) {
      text.appendChild(document.createTextNode(" · " + this.waiting + " part" +
        (this.waiting > 1 ? "s" : "") + " will refresh when you finish editing"));
    }
    this.announce(state, "Reconnected: the page is live again.");
  };

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-live]");
    if (root && window.fetch) window.__livePage = new LivePage(root);
  });
})();
