/* Missing-person pages: "use my current position" buttons, the loud offline warning of the report
   form (no alert has gone out yet), and the case map (last seen, found before, sightings, officers,
   the search radius). Positions from the server are already in the tiles' datum. */
(function () {
  "use strict";

  var MAX_ACCURACY_M = 10000; // the forms refuse rougher fixes (an IP-based guess says nothing)
  var COLOURS = { last_seen: "#b00020", found: "#1b6e20", found_before: "#1b6e20", sighting: "#0b3d91",
                  officer: "#555555" };

  function usePosition(button) {
    var box = button.closest(".position-pick"), text = box.querySelector(".position-state");
    var lat = document.getElementById(button.dataset.lat), lon = document.getElementById(button.dataset.lon);
    if (!navigator.geolocation || !lat || !lon) { text.textContent = text.dataset.failed; return; }
    box.dataset.state = "locating";
    text.textContent = text.dataset.locating;
    navigator.geolocation.getCurrentPosition(function (pos) {
      var c = pos.coords;
      if (!isFinite(c.latitude) || !isFinite(c.longitude) || c.accuracy > MAX_ACCURACY_M) {
        box.dataset.state = "failed";
        text.textContent = text.dataset.failed;
        return;
      }
      lat.value = c.latitude.toFixed(7);
      lon.value = c.longitude.toFixed(7);
      box.dataset.state = "found";
      text.textContent = text.dataset.found.replace("{m}", Math.round(c.accuracy));
    }, function () {
      box.dataset.state = "failed";
      text.textContent = text.dataset.failed;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".use-position");
    if (button) usePosition(button);
  });

  // --- the report offline: say loudly that nobody has been alerted yet ---------------------------
  function alarm(on) {
    var box = document.getElementById("offline-alarm");
    if (box) box.hidden = !on;
  }
  var queued = false;
  document.addEventListener("pingan:queued", function (event) {
    if (event.target && event.target.id === "report-form") { queued = true; alarm(true); }
  });
  window.addEventListener("offline", function () { alarm(true); });
  window.addEventListener("online", function () { if (!queued) alarm(false); });

  // --- the case map --------------------------------------------------------------------------------
  function caseMap(el) {
    var markers = [];
    try { markers = JSON.parse(el.dataset.markers || "[]"); } catch (e) { return; }
    var map = L.map(el, { zoomControl: true }).setView([35.7986, 112.9237], 13);
    if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, subdomains: "1234" }).addTo(map);
    var bounds = [];
    markers.forEach(function (m) {
      var marker = L.circleMarker([m.lat, m.lon], { radius: m.kind === "last_seen" ? 10 : 7, weight: 2,
        color: COLOURS[m.kind] || "#0b3d91", fillOpacity: m.kind === "officer" ? 0.3 : 0.7 }).bindTooltip(m.label);
      if (m.url) marker.on("click", function () { location.href = m.url; });
      marker.addTo(map);
      bounds.push([m.lat, m.lon]);
    });
    var centre = markers.filter(function (m) { return m.kind === "last_seen"; })[0];
    var radius = parseFloat(el.dataset.radius);
    if (centre && isFinite(radius) && radius > 0) {
      var circle = L.circle([centre.lat, centre.lon], { radius: radius, color: "#b00020", weight: 1, fillOpacity: 0.05 })
        .addTo(map);
      bounds = bounds.concat([circle.getBounds().getSouthWest(), circle.getBounds().getNorthEast()]);
    }
    if (bounds.length) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 16 });
  }

  function init() {
    if (navigator.onLine === false && document.getElementById("report-form")) alarm(true);
    var el = document.getElementById("case-map");
    if (el && window.L && !el.dataset.ready) { el.dataset.ready = "1"; caseMap(el); }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
