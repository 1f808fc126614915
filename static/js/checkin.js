/* Patrol check-in: the phone's position, the nearest point, QR scanning.
   Everything it needs is in the page (points as JSON), so it works offline from the cache.
   outbox.js owns client_id/recorded_at and queuing; this file only fills the fields. */
(function () {
  "use strict";

  // Beyond 10 km a "fix" is an IP guess: the server refuses it too (forms.MAX_ACCURACY_M).
  var MAX_ACCURACY_M = 10000;
  // Preselect the nearest point only when it is plausibly the one the officer stands at.
  var PRESELECT_WITHIN_M = 1000;
  var GEO_OPTIONS = { enableHighAccuracy: true, timeout: 10000, maximumAge: 30000 };
  var points = [], text = {}, lastFix = null, scanStream = null;

  function readJSON(id, fallback) {
    var el = document.getElementById(id);
    if (!el) return fallback;
    try { return JSON.parse(el.textContent); } catch (e) { return fallback; }
  }

  function fmt(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (_m, key) { return values[key]; });
  }

  function $(id) { return document.getElementById(id); }

  // Haversine on a sphere: within 0.5 % of the server's geodesic, plenty to pick the nearest point.
  function distanceM(lat1, lon1, lat2, lon2) {
    var r = Math.PI / 180, a = Math.sin((lat2 - lat1) * r / 2), b = Math.sin((lon2 - lon1) * r / 2);
    var h = a * a + Math.cos(lat1 * r) * Math.cos(lat2 * r) * b * b;
    return 2 * 6371009 * Math.asin(Math.min(1, Math.sqrt(h)));
  }

  function setStatus(state, message, detail) {
    var box = $("position");
    if (!box) return;
    box.dataset.state = state;
    $("position-text").textContent = message || "";
    $("position-accuracy").textContent = detail || "";
  }

  function setPosition(lat, lon, accuracy) {
    $("lat").value = lat === null ? "" : lat.toFixed(7);
    $("lon").value = lon === null ? "" : lon.toFixed(7);
    $("accuracy").value = accuracy === null ? "" : accuracy.toFixed(1);
  }

  function openCodeEntry() {
    var details = $("qr-entry");
    if (details) details.open = true;
  }

  function labelOptions(c) {
    var select = $("point_id");
    if (!select) return null;
    var best = null;
    points.forEach(function (p) {
      var d = distanceM(c.latitude, c.longitude, p.lat, p.lon);
      var option = select.querySelector('option[value="' + p.id + '"]');
      if (option) option.textContent = p.name + " · " + fmt(text.m, { d: Math.round(d) });
      if (!best || d < best.d) best = { point: p, d: d };
    });
    return best;
  }

  function applyFix(position) {
    if (!$("checkin-form")) return;
    lastFix = position;
    var c = position.coords;
    // Emulators and some desktop browsers report 0 or nothing: a position of unknown accuracy.
    var known = typeof c.accuracy === "number" && isFinite(c.accuracy) && c.accuracy > 0;
    if (known && c.accuracy > MAX_ACCURACY_M) {
      setPosition(null, null, null);
      setStatus("rough", fmt(text.too_rough, { m: Math.round(c.accuracy) }));
      openCodeEntry();
      return;
    }
    setPosition(c.latitude, c.longitude, known ? c.accuracy : null);
    var accuracy = known ? fmt(text.accuracy, { m: Math.round(c.accuracy) }) : "";
    var best = labelOptions(c), select = $("point_id"), hint = $("nearest-hint");
    if (best && best.d <= PRESELECT_WITHIN_M) {
      if (select && !select.dataset.userChose && !$("qr_token").value) select.value = String(best.point.id);
      setStatus("ok", fmt(text.nearest, { name: best.point.name, d: Math.round(best.d) }), accuracy);
    } else {
      setStatus("ok", text.none_near, accuracy);
    }
    if (hint) hint.textContent = accuracy;
  }

  function onError(error) {
    setPosition(null, null, null);
    setStatus("error", error && error.code === 1 ? text.denied : text.unavailable);
    openCodeEntry();
  }

  function locate() {
    if (!navigator.geolocation) {
      setStatus("error", text.no_gps);
      openCodeEntry();
      return;
    }
    setStatus("locating", text.locating);
    navigator.geolocation.getCurrentPosition(applyFix, onError, GEO_OPTIONS);
  }

  // --- QR scanning: BarcodeDetector where the browser has it, else the typed code. ---
  function stopScan() {
    if (scanStream) scanStream.getTracks().forEach(function (t) { t.stop(); });
    scanStream = null;
    var video = $("qr-video");
    if (video) video.hidden = true;
  }

  function scan() {
    var video = $("qr-video"), detector, started = Date.now();
    try { detector = new window.BarcodeDetector({ formats: ["qr_code"] }); } catch (e) { setStatus("error", text.scan_failed); return; }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      scanStream = stream;
      video.srcObject = stream;
      video.hidden = false;
      return video.play();
    }).then(function tick() {
      if (!scanStream) return;
      if (Date.now() - started > 20000) { stopScan(); setStatus("error", text.scan_failed); return; }
      detector.detect(video).then(function (codes) {
        if (codes.length) {
          $("qr_token").value = codes[0].rawValue;
          stopScan();
          setStatus("ok", text.scanned, $("position-accuracy").textContent);
        } else {
          requestAnimationFrame(tick);
        }
      }, function () { requestAnimationFrame(tick); });
    }).catch(function () { stopScan(); setStatus("error", text.scan_failed); });
  }

  function init() {
    var form = $("checkin-form");
    if (!form || form.dataset.checkinReady) return;
    form.dataset.checkinReady = "1";
    points = readJSON("patrol-points", []);
    text = readJSON("checkin-text", {});
    var select = $("point_id");
    if (select) select.addEventListener("change", function () { select.dataset.userChose = "1"; });
    $("locate-again").addEventListener("click", locate);
    var scanButton = $("scan-qr");
    if (scanButton && "BarcodeDetector" in window && navigator.mediaDevices) {
      scanButton.hidden = false;
      scanButton.addEventListener("click", scan);
    }
    // A QR link opened offline is served from the cache without its query: read ?t= here.
    var token = new URLSearchParams(window.location.search).get("t");
    if (token && !$("qr_token").value) $("qr_token").value = token.slice(0, 300);
    // The outbox resets the form after queuing it offline or saving it online: no code read for the
    // next check-in (a code from the page's link is its default), and the position and nearest point
    // back; after a save, a new fix too (the officer moves on).
    function nextCheckIn() {
      $("qr_token").value = "";
      if (select) delete select.dataset.userChose;
      if (lastFix) applyFix(lastFix);
    }
    form.addEventListener("pingan:queued", nextCheckIn);
    form.addEventListener("pingan:saved", function () {
      nextCheckIn();
      locate();
    });
    // A form swapped in (a refused check-in's box): show the last fix at once, then ask for a new one.
    if (lastFix) applyFix(lastFix);
    locate();
  }

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
  window.addEventListener("pagehide", stopScan);
})();
