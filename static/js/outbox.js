/* Pingan offline outbox, the page side: field forms that cannot reach the server go to the
   outbox (outbox-core.js) with "saved on this phone, N waiting"; the header badge; flushing on
   load, `online`, `visibilitychange`, a backoff timer and the service worker's Background Sync.
   Tests await `window.pinganOutbox.flush()` (an unawaited sync races with network flips). */
(function () {
  "use strict";
  if (typeof document === "undefined") return; // the service worker uses the core only

  var core = self.pinganOutboxCore;
  var zh = (document.documentElement.lang || "").indexOf("zh") === 0;
  var TEXT = zh ? {
    saved: "已保存在本机，{n} 条待同步",
    savedLogin: "已保存在本机，{n} 条待同步。请重新登录后发送。",
    notSaved: "无法保存在本机，请稍后再试。"
  } : {
    saved: "Saved on this phone, {n} waiting to sync",
    savedLogin: "Saved on this phone, {n} waiting to sync. Log in again to send.",
    notSaved: "Could not save on this phone. Try again later."
  };
  var BACKOFF_START_MS = 5000, BACKOFF_MAX_MS = 5 * 60 * 1000; // 5 s doubling to 5 min
  var meta = document.querySelector('meta[name="pingan-user"]');
  var user = meta ? meta.content : null;
  var inFlight = 0, failures = 0, timer = null, lastResult = null, offlineReady = false;
  var snapshots = new WeakMap();

  function fmt(template, n) { return template.replace("{n}", String(n)); }

  /* The device's time as ISO 8601 with its offset, e.g. 2026-11-03T09:15:02+08:00. */
  function isoNow() {
    var d = new Date(), off = -d.getTimezoneOffset(), sign = off >= 0 ? "+" : "-";
    function two(n) { return (n < 10 ? "0" : "") + n; }
    off = Math.abs(off);
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + "T" + two(d.getHours()) +
      ":" + two(d.getMinutes()) + ":" + two(d.getSeconds()) + sign + two(Math.floor(off / 60)) + ":" + two(off % 60);
  }

  /* A page served from the cache carries an old client_id: every form opening gets a new one. */
  function freshIds(root) {
    (root || document).querySelectorAll("form[data-outbox] [name=client_id]").forEach(function (input) {
      input.value = core.uuid();
    });
  }

  function outboxForm(elt) {
    return elt && elt.closest ? elt.closest("form[data-outbox]") : null;
  }

  function toEntry(form) {
    var formData = snapshots.get(form) || new FormData(form);
    var data = {}, files = {};
    formData.forEach(function (value, key) {
      if (core.ENVELOPE.indexOf(key) >= 0) return;
      if (value instanceof Blob) {
        if (value.size > 0) files[key] = value;
        return;
      }
      data[key] = key in data ? [].concat(data[key], value) : value;
    });
    return {
      client_id: formData.get("client_id") || core.uuid(), kind: form.dataset.outbox,
      recorded_at: formData.get("recorded_at") || isoNow(), user_id: user, data: data, files: files,
      page: location.pathname
    };
  }

  function showMessage(form, text, level) {
    var box = form.closest("[data-outbox-target]") || form.parentNode;
    var note = box.querySelector(".outbox-saved");
    if (!note) {
      note = document.createElement("div");
      note.setAttribute("role", "status");
      box.insertBefore(note, box.contains(form) && form.parentNode === box ? form : box.firstChild);
    }
    note.className = "flash outbox-saved flash-" + level;
    note.textContent = text;
    // The officer tapped the button at the bottom: bring the note (and the fresh form) into view.
    if (note.scrollIntoView) note.scrollIntoView({ block: "center" });
  }

  /* Keep the form's record on this phone, tell the officer, and open a fresh form. */
  function queueForm(form, sessionGone) {
    if (!user) return Promise.resolve();
    var entry = toEntry(form);
    snapshots.delete(form);
    return core.enqueue(entry).then(function (count) {
      showMessage(form, fmt(sessionGone ? TEXT.savedLogin : TEXT.saved, count), "info");
      form.reset();
      freshIds(form.parentNode || document);
      form.dispatchEvent(new CustomEvent("pingan:queued", { bubbles: true, detail: { client_id: entry.client_id } }));
      return render();
    }, function () {
      showMessage(form, TEXT.notSaved, "error");
    });
  }

  // recorded_at is the moment of submitting; the snapshot is what gets queued if sending fails.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.matches("form[data-outbox]")) return;
    var recorded = form.querySelector("[name=recorded_at]"), id = form.querySelector("[name=client_id]");
    if (recorded) recorded.value = isoNow();
    if (id && !id.value) id.value = core.uuid();
    snapshots.set(form, new FormData(form));
  }, true);

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = outboxForm(event.detail.elt);
    if (form && navigator.onLine === false) {
      event.preventDefault(); // no network at all: don't even try
      queueForm(form, false);
    }
  });

  function onUnreachable(event) {
    var form = outboxForm(event.detail.elt);
    if (form) queueForm(form, false);
  }
  document.addEventListener("htmx:sendError", onUnreachable);
  document.addEventListener("htmx:timeout", onUnreachable);

  // A server error, a proxy's 502/503, or a session that ended: queue instead of swapping or
  // redirecting (nothing typed is lost; the record goes with the queue after logging in).
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var form = outboxForm(event.detail.elt), status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (!form || !(status >= 500 || status === 401)) return;
    event.preventDefault();
    queueForm(form, status === 401);
  });

  document.addEventListener("htmx:load", function (event) { freshIds(event.detail.elt); });

  /* Saved online, answered with its outcome only (HX-Trigger: pingan:saved, the answer swapped into
     the form's result box): clear the form for the next record, as after queuing one. Capture phase:
     cleared before the page's own listeners on the form (checkin.js) fill it again. */
  document.addEventListener("pingan:saved", function (event) {
    var form = outboxForm(event.target);
    if (!form) return;
    snapshots.delete(form);
    var box = form.closest("[data-outbox-target]") || form.parentNode;
    box.querySelectorAll(".outbox-saved, .form-errors").forEach(function (el) { el.remove(); });
    form.querySelectorAll(".error").forEach(function (el) { el.remove(); });
    form.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    });
    form.reset();
    freshIds(form);
  }, true);

  // Something reached the server: a good moment to send what waits.
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful && !outboxForm(event.detail.elt) && inFlight === 0) {
      core.itemsOf(user).then(function (items) { if (items.some(waiting)) flush(); });
    }
  });

  function waiting(item) { return item.state !== core.REJECTED; }

  // --- flushing -------------------------------------------------------------------------------
  function schedule(result) {
    clearTimeout(timer);
    timer = null;
    if (!result || !result.left) {
      failures = 0;
      return;
    }
    if (result.status === "paused") return; // until this user logs in again
    var delay;
    if (result.status === "ok" || result.status === "idle") {
      failures = 0;
      delay = 30000; // items the server did not name: try again soon
    } else {
      failures += 1;
      delay = result.retryAfter ? result.retryAfter * 1000
        : Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * Math.pow(2, failures - 1)) * (0.8 + Math.random() * 0.4);
    }
    timer = setTimeout(function () { flush(); }, delay);
  }

  /* Send this user's queue. `force` also tries when paused (a page load: the user is logged in). */
  function flush(force) {
    if (!user) return Promise.resolve({ status: "no-user" });
    inFlight += 1;
    return (force ? Promise.resolve(null) : core.getMeta("paused:" + user)).then(function (paused) {
      if (paused) return core.itemsOf(user).then(function (items) {
        return { status: "paused", left: items.filter(waiting).length };
      });
      if (navigator.onLine === false) return core.itemsOf(user).then(function (items) {
        return { status: "offline", left: items.filter(waiting).length };
      });
      return core.flushFor(user);
    }).then(function (result) {
      lastResult = result;
      schedule(result);
      return render().then(function () { return result; });
    }).catch(function (error) {
      return { status: "error", error: String(error) };
    }).finally(function () {
      inFlight -= 1;
    });
  }

  // --- the badge ------------------------------------------------------------------------------
  function render() {
    if (!user) return Promise.resolve();
    return core.itemsOf(user).then(function (items) {
      var rejected = items.filter(function (i) { return i.state === core.REJECTED; }).length;
      var total = items.length;
      var badge = document.getElementById("outbox-badge");
      if (badge) {
        badge.dataset.state = rejected ? "attention" : total ? "waiting" : "idle";
        badge.hidden = total === 0;
        var count = badge.querySelector(".outbox-count");
        if (count) count.textContent = String(total);
      }
      document.dispatchEvent(new CustomEvent("pingan:outbox", { detail: { items: items, last: lastResult } }));
    }).catch(function () { /* no IndexedDB: the badge stays "unknown" */ });
  }
  core.onChange(function () { render(); });

  window.pinganOutbox = {
    flush: function () { return flush(true); },
    count: function () { return core.itemsOf(user).then(function (items) { return items.length; }); },
    items: function () { return core.itemsOf(user); },
    render: render,
    get inFlight() { return inFlight; },
    get offlineReady() { return offlineReady; }, // this page's forms are cached by the worker
    get user() { return user; }
  };

  function tellServiceWorker() {
    var sw = navigator.serviceWorker;
    if (!sw || !user) return;
    sw.addEventListener("message", function (event) {
      var type = event.data && event.data.type;
      if (type === "flush") flush();
      if (type === "precached") {
        offlineReady = true;
        document.dispatchEvent(new CustomEvent("pingan:offline-ready", { detail: event.data }));
      }
    });
    sw.ready.then(function (registration) {
      // The field-form pages of this officer, cached for offline use.
      if (registration.active) registration.active.postMessage({ type: "precache", user: user });
    });
  }

  function start() {
    freshIds(document);
    if (!user) return;
    core.setMeta("user", user).catch(function () {});
    tellServiceWorker();
    render();
    flush(true);
    window.addEventListener("online", function () { flush(); });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") flush();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
