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

/* The review editor (one form, [data-autosave]): rows added one at a time,
   autosave a few seconds after typing stops (with the version the page was
   rendered from: a concurrent save is refused, never overwritten), a warning
   before leaving with unsaved words, and a copy of the draft in this browser
   that survives a lost connection or a closed tab. */
(function () {
  "use strict";

  var DELAY = 2500;

  function addRow(prefix) {
    var rows = document.querySelector('[data-formset-rows="' + prefix + '"]');
    var template = document.querySelector('[data-formset-template="' + prefix + '"]');
    var total = document.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
    var max = document.querySelector('input[name="' + prefix + '-MAX_NUM_FORMS"]');
    if (!rows || !template || !total) return null;
    var index = parseInt(total.value, 10);
    if (max && index >= parseInt(max.value, 10)) return null;
    var html = template.innerHTML.replace(/__prefix__/g, index).replace(/__n__/g, index + 1);
    rows.insertAdjacentHTML("beforeend", html);
    total.value = index + 1;
    var added = rows.lastElementChild;
    var first = added && added.querySelector("input, select, textarea");
    if (first) first.focus();
    return added;
  }

  function serialise(form) {
    var data = {};
    form.querySelectorAll("input, textarea, select").forEach(function (f) {
      if (!f.name || f.type === "hidden" && f.name !== "whys-TOTAL_FORMS" &&
          f.name !== "factors-TOTAL_FORMS") return;
      data[f.name] = f.type === "checkbox" ? f.checked : f.value;
    });
    return data;
  }

  function Editor(form) {
    this.form = form;
    this.status = form.querySelector("[data-autosave-status]");
    this.version = form.querySelector('input[name="version"]');
    this.key = "incidentops-draft-" + form.getAttribute("data-draft-key");
    this.dirty = false;
    this.saving = false;
    this.timer = null;
    var self = this;
    this.restore();
    form.addEventListener("input", function () { self.changed(); });
    form.addEventListener("change", function () { self.changed(); });
    form.addEventListener("submit", function (event) {
      // An autosave in flight would make this submit's version stale: send it
      // once the autosave has answered (with the version it returns).
      if (self.saving) {
        event.preventDefault();
        self.queued = event.submitter || true;
        self.say("Saving…", "saving");
        return;
      }
      clearTimeout(self.timer);
      self.dirty = false;
      self.submitting = true;
      self.keep(true);
    });
    form.querySelectorAll("[data-formset-add]").forEach(function (button) {
      button.addEventListener("click", function () {
        if (addRow(button.getAttribute("data-formset-add"))) self.changed();
      });
    });
    window.addEventListener("beforeunload", function (event) {
      if (self.dirty && !self.submitting) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
  }

  Editor.prototype.say = function (text, state) {
    if (!this.status) return;
    this.status.textContent = text;
    this.status.setAttribute("data-state", state || "");
  };

  Editor.prototype.keep = function (submitted) {
    try {
      localStorage.setItem(this.key, JSON.stringify({
        version: this.version.value, fields: serialise(this.form), at: Date.now(),
        submitted: !!submitted
      }));
    } catch (e) { /* storage full or disabled: autosave still runs */ }
  };

  Editor.prototype.changed = function () {
    var self = this;
    this.dirty = true;
    this.say("Unsaved changes", "dirty");
    this.keep(false);
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.save(); }, DELAY);
  };

  Editor.prototype.sendQueued = function () {
    var submitter = this.queued;
    this.queued = null;
    if (!submitter) return;
    if (submitter !== true && this.form.requestSubmit) {
      this.form.requestSubmit(submitter);
      return;
    }
    this.dirty = false;
    this.submitting = true;
    this.keep(true);
    this.form.submit();
  };

  Editor.prototype.save = function () {
    var self = this;
    if (this.saving) { this.timer = setTimeout(function () { self.save(); }, DELAY); return; }
    if (this.stale) return;
    this.saving = true;
    this.dirty = false;
    this.say("Saving…", "saving");
    fetch(this.form.action || location.pathname, {
      method: "POST", body: new FormData(this.form), credentials: "same-origin",
      headers: { "X-Autosave": "1" }, redirect: "manual"
    }).then(function (response) {
      if (response.type === "opaqueredirect") throw new Error("signed out");
      return response.json().then(function (body) { return { ok: response.ok, status: response.status, body: body }; });
    }).then(function (result) {
      self.saving = false;
      if (result.ok) {
        self.version.value = result.body.version;
        if (!self.dirty) {
          try { localStorage.removeItem(self.key); } catch (e) { /* ignore */ }
          self.say("All changes saved at " + result.body.saved_at, "saved");
        }
        self.sendQueued();
        return;
      }
      self.dirty = true;
      if (result.status === 409) self.stale = true;
      self.say("Not saved: " + result.body.detail, "refused");
      self.sendQueued();
    }).catch(function () {
      self.saving = false;
      self.sendQueued();
      self.dirty = true;
      self.say("Not saved: no connection. Your text is kept in this browser; saving again shortly.", "offline");
      self.timer = setTimeout(function () { self.save(); }, DELAY * 4);
    });
  };

  Editor.prototype.restore = function () {
    var stored;
    try { stored = JSON.parse(localStorage.getItem(this.key) || "null"); } catch (e) { stored = null; }
    var saved = this.form.getAttribute("data-saved-version");
    if (saved && window.history && history.replaceState) {
      history.replaceState(null, "", location.pathname + location.hash);
    }
    if (!stored || !stored.fields) return;
    if (stored.submitted && saved && saved === this.version.value) {
      // The page comes back from this browser's own save: the words are in.
      try { localStorage.removeItem(this.key); } catch (e) { /* ignore */ }
      return;
    }
    var notice = this.form.querySelector("[data-draft-restored]");
    if (stored.version !== this.version.value) {
      // Written against words someone has since changed: offer it to copy,
      // never put it back silently.
      if (notice) {
        notice.hidden = false;
        notice.textContent = "Text you typed earlier in this browser was not saved, and the review has changed since. It is not restored; here it is to copy: ";
        var pre = document.createElement("pre");
        pre.className = "update-body";
        Object.keys(stored.fields).forEach(function (name) {
          var value = stored.fields[name];
          if (typeof value === "string" && value.trim() && !/TOTAL_FORMS$/.test(name)) {
            pre.textContent += name + ": " + value + "\n";
          }
        });
        notice.appendChild(pre);
      }
      try { localStorage.removeItem(this.key); } catch (e) { /* ignore */ }
      return;
    }
    var form = this.form;
    ["whys", "factors"].forEach(function (prefix) {
      var wanted = parseInt(stored.fields[prefix + "-TOTAL_FORMS"], 10);
      var total = form.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
      while (total && wanted > parseInt(total.value, 10) && addRow(prefix)) { /* add */ }
    });
    var changed = false;
    Object.keys(stored.fields).forEach(function (name) {
      var field = form.querySelector('[name="' + name + '"]');
      if (!field || field.type === "hidden") return;
      var value = stored.fields[name];
      if (field.type === "checkbox") {
        if (field.checked !== value) { field.checked = value; changed = true; }
      } else if (field.value !== value) {
        field.value = value;
        changed = true;
      }
    });
    if (changed) {
      this.dirty = true;
      if (notice) {
        notice.hidden = false;
        notice.textContent = "Restored text you typed in this browser that was not saved yet.";
      }
      this.changed();
    }
  };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-autosave]").forEach(function (form) {
      window.__reviewEditor = new Editor(form);
    });
  });
})();
