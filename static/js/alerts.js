/* Missing-person banner on every page: polls /missing/alerts every 10 s with If-None-Match, so the
   server answers 304 while nothing changed (the per-phone cost that matters); a 200 is swapped into
   #alerts. The browser's position (only when the user already allowed it, or taps "show my
   distance") goes along, rounded, so the server can say how far the last-seen place is.
   A "found" notice is shown once, and only to a browser that saw the case's alert. */
(function () {
  "use strict";
  var POLL_MS = 10000; // every page sees a new case within 15 s
  var LOCATE_MS = 60000; // refresh the position at most once a minute while a case is open
  var meta = document.querySelector('meta[name="pingan-user"]');
  var region = document.getElementById("alerts");
  if (!meta || !region || !window.fetch) return;
  var user = meta.content, CACHE = "pingan-alerts:" + user;
  var SEEN_OPEN = "pingan-alerts-open:" + user, SEEN_CLOSED = "pingan-alerts-closed:" + user;
  var state = read(sessionStorage, CACHE) || {};
  var position = state.position || null, polling = false, stopped = false, lastLocate = 0;
  var shownHere = {}; // stand-down notices shown on this page stay until dismissed

  function read(store, key) { try { return JSON.parse(store.getItem(key)); } catch (e) { return null; } }
  function write(store, key, value) { try { store.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode */ } }
  function ids(key) { return read(localStorage, key) || []; }
  function remember(key, id) {
    var list = ids(key);
    if (list.indexOf(id) < 0) { list.push(id); write(localStorage, key, list.slice(-200)); }
  }

  function url() {
    if (!position) return "/missing/alerts";
    return "/missing/alerts?lat=" + position[0].toFixed(5) + "&lon=" + position[1].toFixed(5);
  }

  function show(html) {
    region.innerHTML = html; // the server's autoescaped fragment
    var open = region.querySelectorAll("[data-case-id]");
    open.forEach(function (node) { remember(SEEN_OPEN, node.dataset.caseId); });
    var seenOpen = ids(SEEN_OPEN), seenClosed = ids(SEEN_CLOSED);
    region.querySelectorAll("[data-closed-case-id]").forEach(function (node) {
      var id = node.dataset.closedCaseId;
      if (shownHere[id] || (seenOpen.indexOf(id) >= 0 && seenClosed.indexOf(id) < 0)) {
        shownHere[id] = true;
        remember(SEEN_CLOSED, id);
        node.hidden = false;
      } else {
        node.remove();
      }
    });
    region.dataset.state = open.length ? "alert" : "quiet";
    region.dataset.version = (region.querySelector("[data-version]") || {dataset: {}}).dataset.version || "";
    document.dispatchEvent(new CustomEvent("pingan:alerts", { detail: { open: open.length } }));
    if (open.length) locate(false);
  }

  function poll() {
    if (polling || stopped || document.hidden) return Promise.resolve();
    polling = true;
    var headers = { "HX-Request": "true" };
    if (state.etag && state.url === url()) headers["If-None-Match"] = state.etag;
    var asked = url();
    return fetch(asked, { headers: headers, cache: "no-store", credentials: "same-origin" }).then(function (response) {
      if (response.status === 304) return null;
      if (response.status === 401) { stopped = true; region.innerHTML = ""; return null; }
      if (!response.ok) return null;
      return response.text().then(function (html) {
        state = { etag: response.headers.get("ETag"), url: asked, html: html, position: position };
        write(sessionStorage, CACHE, state);
        show(html);
      });
    }).catch(function () { /* offline: try again at the next tick */ }).finally(function () { polling = false; });
  }

  function moved(a, b) { return !a || Math.abs(a[0] - b[0]) > 0.0005 || Math.abs(a[1] - b[1]) > 0.0005; }

  function getPosition() {
    lastLocate = Date.now();
    navigator.geolocation.getCurrentPosition(function (p) {
      var next = [p.coords.latitude, p.coords.longitude];
      if (!isFinite(next[0]) || !isFinite(next[1])) return;
      var changed = moved(position, next);
      position = next;
      state.position = position;
      write(sessionStorage, CACHE, state);
      if (changed) poll();
    }, function () { /* denied or no fix: no distance */ }, { maximumAge: 60000, timeout: 20000 });
  }

  /* Ask the phone only when the user already allowed it (no prompt on every page), or when asked to. */
  function locate(force) {
    if (!navigator.geolocation || (!force && Date.now() - lastLocate < LOCATE_MS)) return;
    if (force || !navigator.permissions) { if (force) getPosition(); return; }
    navigator.permissions.query({ name: "geolocation" }).then(function (status) {
      if (status.state === "granted") getPosition();
    }, function () {});
  }

  region.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest(".share-position")) locate(true);
    var dismiss = target.closest(".dismiss");
    if (dismiss) dismiss.closest("[data-closed-case-id]").remove();
  });

  if (state.html) show(state.html);
  poll();
  setInterval(poll, POLL_MS);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
  window.addEventListener("online", poll);
  window.pinganAlerts = { poll: poll, get position() { return position; } };
})();
