/* Task feedback: add the phone's position to the feedback form when the phone gives one.
   The position is optional: without it (denied, indoors, no GPS) the feedback is sent as it is. */
(function () {
  "use strict";

  var MAX_ACCURACY_M = 10000; // the form refuses rougher fixes (an IP-based guess says nothing)

  function locate() {
    var form = document.getElementById("feedback-form");
    if (!form || form.dataset.located || !navigator.geolocation) return;
    form.dataset.located = "1";
    var box = document.getElementById("fb-position"), text = document.getElementById("fb-position-text");
    function say(state, message) {
      if (box) box.dataset.state = state;
      if (text && message) text.textContent = message;
    }
    say("locating", text && text.dataset.locating);
    navigator.geolocation.getCurrentPosition(function (pos) {
      var c = pos.coords;
      if (!isFinite(c.latitude) || !isFinite(c.longitude) || c.accuracy > MAX_ACCURACY_M) {
        say("failed", text && text.dataset.failed);
        return;
      }
      document.getElementById("fb-lat").value = c.latitude.toFixed(7);
      document.getElementById("fb-lon").value = c.longitude.toFixed(7);
      document.getElementById("fb-accuracy").value = Math.max(c.accuracy, 0.1).toFixed(1);
      say("found", text && text.dataset.found.replace("{m}", Math.round(c.accuracy)));
    }, function () {
      say("failed", text && text.dataset.failed);
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  document.addEventListener("DOMContentLoaded", locate);
  document.addEventListener("htmx:afterSettle", locate);
})();
