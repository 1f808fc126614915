/* Visits: pick the subject from the active search, add the phone's position to the visit form,
   and sort "who to visit" by distance. Everything works without a position (it is optional). */
(function () {
  "use strict";

  var MAX_ACCURACY_M = 10000; // the form refuses rougher fixes (an IP-based guess says nothing)
  var GEO = { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 };

  function $(id) { return document.getElementById(id); }

  // --- the visit form -------------------------------------------------------------------------
  function showChosen(label) {
    var chosen = $("subject-chosen"), finder = $("subject-finder");
    $("subject-label").textContent = label || "";
    if (chosen) chosen.hidden = !label;
    if (finder) finder.hidden = !!label;
    togglePlace();
  }

  function selectedType() {
    var checked = document.querySelector("#visit-form [name=subject_type]:checked");
    return checked ? checked.value : "resident";
  }

  function togglePlace() {
    var details = $("new-place");
    if (details && $("subject_id")) details.hidden = selectedType() !== "place" || !!$("subject_id").value;
  }

  function clearSubject() {
    $("subject_id").value = "";
    var results = $("subject-results");
    if (results) results.innerHTML = "";
    showChosen("");
    var q = $("subject-q");
    if (q) q.focus();
  }

  document.addEventListener("click", function (event) {
    var pick = event.target.closest && event.target.closest(".subject-pick");
    if (pick && $("visit-form")) {
      event.preventDefault();
      $("subject_id").value = pick.dataset.id;
      var radio = document.querySelector('#visit-form [name=subject_type][value="' + pick.dataset.type + '"]');
      if (radio) radio.checked = true;
      showChosen(pick.dataset.label);
      return;
    }
    if (event.target.id === "subject-clear") clearSubject();
  });

  document.addEventListener("change", function (event) {
    if (event.target.name === "subject_type" && event.target.closest("#visit-form")) {
      clearSubject();
      var q = $("subject-q");
      // Search again for the new type with what is typed already.
      if (q && q.value && window.htmx) window.htmx.trigger(q, "search");
    }
  });

  function locateVisit() {
    var form = $("visit-form");
    if (!form || form.dataset.located || !navigator.geolocation) return;
    form.dataset.located = "1";
    var box = $("visit-position"), text = $("visit-position-text");
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
      $("visit-lat").value = c.latitude.toFixed(7);
      $("visit-lon").value = c.longitude.toFixed(7);
      $("visit-accuracy").value = Math.max(c.accuracy || 0.1, 0.1).toFixed(1);
      say("found", text && text.dataset.found.replace("{m}", Math.round(c.accuracy || 0)));
    }, function () {
      say("failed", text && text.dataset.failed);
    }, GEO);
  }

  // --- who to visit ---------------------------------------------------------------------------
  function locatePlan() {
    var button = $("plan-locate"), status = $("plan-status");
    if (!button || !navigator.geolocation || !window.htmx) return;
    status.textContent = button.dataset.locating;
    navigator.geolocation.getCurrentPosition(function (pos) {
      var c = pos.coords, url = button.dataset.url + "?lat=" + c.latitude.toFixed(6) + "&lon=" + c.longitude.toFixed(6);
      window.htmx.ajax("GET", url, { target: "#plan", swap: "outerHTML" }).then(function () { status.textContent = ""; });
    }, function () {
      status.textContent = button.dataset.failed;
    }, GEO);
  }

  function init() {
    locateVisit();
    togglePlace();
    var button = $("plan-locate");
    if (button && !button.dataset.ready) {
      button.dataset.ready = "1";
      button.addEventListener("click", locatePlan);
      var plan = $("plan");
      if (plan && plan.dataset.position === "no") locatePlan();
    }
  }

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
  // A fresh form after the outbox queued the visit: its position is asked for again.
  document.addEventListener("pingan:queued", function () {
    var form = $("visit-form");
    if (form) {
      delete form.dataset.located;
      $("subject_id").value = ""; // form.reset() keeps a hidden input's value: the next visit starts empty
      showChosen("");
    }
    init();
  });
})();
