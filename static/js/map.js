/* Leaflet maps of patrol: today's check-ins (command room) and picking a point's position.
   Tiles come from MAP_TILE_URL (empty: no tiles, markers still drawn). Stored positions are
   WGS-84; on GCJ-02 tiles (Amap/Tencent) the server sends display positions already converted,
   and a picked position is converted back here before it is written into the form. */
(function () {
  "use strict";

  var DEFAULT_CENTRE = [35.7986, 112.9237]; // Gaoping, Shanxi: the reference station

  // WGS-84 -> GCJ-02, the published formula (the same as domain/geo.py's prcoords).
  function outOfChina(lat, lon) { return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271; }
  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    return r + (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
  }
  function tLon(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    return r + (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
  }
  function wgsToGcj(lat, lon) {
    if (outOfChina(lat, lon)) return [lat, lon];
    var a = 6378245.0, ee = 0.00669342162296594323;
    var dLat = tLat(lon - 105, lat - 35), dLon = tLon(lon - 105, lat - 35);
    var rad = lat / 180 * Math.PI, magic = 1 - ee * Math.sin(rad) * Math.sin(rad), sq = Math.sqrt(magic);
    dLat = (dLat * 180) / ((a * (1 - ee)) / (magic * sq) * Math.PI);
    dLon = (dLon * 180) / (a / sq * Math.cos(rad) * Math.PI);
    return [lat + dLat, lon + dLon];
  }
  function gcjToWgs(lat, lon) { // fixed-point iteration: millimetres after a few rounds
    var w = [lat, lon];
    for (var i = 0; i < 8; i++) {
      var g = wgsToGcj(w[0], w[1]);
      w = [w[0] + lat - g[0], w[1] + lon - g[1]];
    }
    return w;
  }

  function baseMap(el, centre, zoom) {
    var map = L.map(el, { zoomControl: true }).setView(centre, zoom);
    if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, subdomains: "1234" }).addTo(map);
    return map;
  }

  // --- today's check-ins -------------------------------------------------------------------------
  function feedMap(el) {
    var map = baseMap(el, DEFAULT_CENTRE, 13), layer = L.layerGroup().addTo(map), drawnFor = null;
    function draw() {
      var source = document.getElementById(el.dataset.markersFrom);
      var json = source && source.dataset.markers;
      if (!json || json === drawnFor) return;
      drawnFor = json;
      var markers = [];
      try { markers = JSON.parse(json); } catch (e) { return; }
      layer.clearLayers();
      var bounds = [];
      markers.forEach(function (m) {
        L.circleMarker([m.lat, m.lon], { radius: 8, weight: 2, color: m.flagged ? "#b00020" : "#0b3d91",
          fillOpacity: 0.6 }).bindTooltip(m.label).addTo(layer);
        bounds.push([m.lat, m.lon]);
      });
      if (bounds.length) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 16 });
    }
    draw();
    document.addEventListener("htmx:afterSettle", draw);
  }

  // --- picking a point's position ----------------------------------------------------------------
  function pickMap(el) {
    var names = el.dataset.pick.split(","), latInput = document.getElementById(names[0]),
        lonInput = document.getElementById(names[1]), gcj = el.dataset.crs === "gcj02", marker = null;
    function fromInputs() {
      var lat = parseFloat(latInput.value), lon = parseFloat(lonInput.value);
      if (!isFinite(lat) || !isFinite(lon)) return null;
      return gcj ? wgsToGcj(lat, lon) : [lat, lon];
    }
    var start = fromInputs(), map = baseMap(el, start || DEFAULT_CENTRE, start ? 17 : 13);
    function place(latlng, write) {
      if (!marker) {
        marker = L.marker(latlng, { draggable: true }).addTo(map);
        marker.on("dragend", function () { place(marker.getLatLng(), true); });
      }
      marker.setLatLng(latlng);
      if (write) {
        var wgs = gcj ? gcjToWgs(latlng.lat, latlng.lng) : [latlng.lat, latlng.lng];
        latInput.value = wgs[0].toFixed(7);
        lonInput.value = wgs[1].toFixed(7);
      }
    }
    if (start) place(L.latLng(start[0], start[1]), false);
    map.on("click", function (event) { place(event.latlng, true); });
    [latInput, lonInput].forEach(function (input) {
      input.addEventListener("change", function () {
        var typed = fromInputs();
        if (typed) { place(L.latLng(typed[0], typed[1]), false); map.panTo(typed); }
      });
    });
  }

  function init() {
    if (!window.L) return;
    var feed = document.getElementById("checkin-map");
    if (feed && !feed.dataset.ready) { feed.dataset.ready = "1"; feedMap(feed); }
    var pick = document.getElementById("pick-map");
    if (pick && !pick.dataset.ready) { pick.dataset.ready = "1"; pickMap(pick); }
  }

  document.addEventListener("DOMContentLoaded", init);
  window.pinganGeo = { wgsToGcj: wgsToGcj, gcjToWgs: gcjToWgs };
})();
