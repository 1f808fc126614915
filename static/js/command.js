/* The command room: the map of the one screen (one Leaflet layer per source, fetched as JSON from the
   URL the screen's refresh carries, redrawn when that URL changes) and the print button. Markers
   arrive in display coordinates (GCJ-02 already applied on the server when the tiles need it), in
   integer microdegrees. No inline script (CSP). */
(function () {
  "use strict";

  var DEFAULT_CENTRE = [35.7986, 112.9237]; // Gaoping, Shanxi: the reference station
  // The markers' format this script reads, sent with the screen's htmx requests: the refresh of a page
  // whose script is older than the server's format answers HX-Refresh (reload, new script).
  var LAYERS_FORMAT = "2", MICRO = 1e6;

  function screenMap(el) {
    var map = L.map(el, { zoomControl: true }).setView(DEFAULT_CENTRE, 13);
    if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, subdomains: "1234" }).addTo(map);
    var groups = {}, control = L.control.layers(null, {}, { collapsed: false }).addTo(map);
    var drawnFor = null, fitted = false;

    function group(layer) {
      if (!groups[layer.key]) {
        groups[layer.key] = L.layerGroup().addTo(map);
        control.addOverlay(groups[layer.key], layer.label);
      }
      return groups[layer.key];
    }

    function draw(layers) {
      var bounds = [];
      layers.forEach(function (layer) {
        var g = group(layer);
        g.clearLayers();
        var big = layer.key === "officers";
        // A marker: [lat, lon (microdegrees), label, alert (0/1), url after layer.url] (screen.layers_payload).
        layer.markers.forEach(function (m) {
          var at = [m[0] / MICRO, m[1] / MICRO];
          var marker = L.circleMarker(at, {
            radius: big ? 10 : 7, weight: big ? 3 : 2, color: m[3] && !big ? "#b00020" : layer.color,
            fillColor: layer.color, fillOpacity: big ? 0.9 : 0.5
          }).bindTooltip(m[2]);
          if (m.length > 4) {
            var url = layer.url + m[4];
            marker.on("click", function () { window.location.href = url; });
          }
          marker.addTo(g);
          bounds.push(at);
        });
      });
      // Fit once: a refresh must not move the map the room is looking at.
      if (bounds.length && !fitted) { map.fitBounds(bounds, { padding: [30, 30], maxZoom: 16 }); fitted = true; }
      el.dataset.drawn = String(bounds.length);
    }

    // The markers' URL changes with the screen's version: fetch it when the refresh swapped a new one in.
    function refresh() {
      var source = document.getElementById(el.dataset.layersFrom);
      var url = source && source.dataset.layersUrl;
      if (!url || url === drawnFor) return;
      drawnFor = url;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
        .then(function (data) { if (drawnFor === url) draw(data.overlays); })
        .catch(function () { if (drawnFor === url) drawnFor = null; }); // retried at the next refresh
    }
    refresh();
    document.addEventListener("htmx:afterSettle", refresh);
  }

  function init() {
    var el = document.getElementById("command-map");
    if (el && window.L && !el.dataset.ready) { el.dataset.ready = "1"; screenMap(el); }
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  document.addEventListener("htmx:configRequest", function (event) {
    if (document.getElementById("command-map")) event.detail.headers["X-Pingan-Layers"] = LAYERS_FORMAT;
  });
  document.addEventListener("DOMContentLoaded", init);
})();
