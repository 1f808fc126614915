/* The command room: the map of the one screen (one Leaflet layer per source, redrawn when the refresh
   swaps new data in) and the print button. Markers arrive in display coordinates (GCJ-02 already
   applied on the server when the tiles need it). No inline script (CSP). */
(function () {
  "use strict";

  var DEFAULT_CENTRE = [35.7986, 112.9237]; // Gaoping, Shanxi: the reference station

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

    function draw() {
      var source = document.getElementById(el.dataset.layersFrom);
      var json = source && source.dataset.layers;
      if (!json || json === drawnFor) return;
      drawnFor = json;
      var layers = [];
      try { layers = JSON.parse(json); } catch (e) { return; }
      var bounds = [];
      layers.forEach(function (layer) {
        var g = group(layer);
        g.clearLayers();
        var big = layer.key === "officers";
        layer.markers.forEach(function (m) {
          var marker = L.circleMarker([m.lat, m.lon], {
            radius: big ? 10 : 7, weight: big ? 3 : 2, color: m.alert && !big ? "#b00020" : layer.color,
            fillColor: layer.color, fillOpacity: big ? 0.9 : 0.5
          }).bindTooltip(m.label);
          if (m.url) marker.on("click", function () { window.location.href = m.url; });
          marker.addTo(g);
          bounds.push([m.lat, m.lon]);
        });
      });
      // Fit once: a refresh must not move the map the room is looking at.
      if (bounds.length && !fitted) { map.fitBounds(bounds, { padding: [30, 30], maxZoom: 16 }); fitted = true; }
      el.dataset.drawn = String(bounds.length);
    }
    draw();
    document.addEventListener("htmx:afterSettle", draw);
  }

  function init() {
    var el = document.getElementById("command-map");
    if (el && window.L && !el.dataset.ready) { el.dataset.ready = "1"; screenMap(el); }
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
