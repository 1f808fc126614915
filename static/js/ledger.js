/* Ledger forms: "add a tenant / hazard" clones the last repeated row and renumbers its fields
   (tenants-0-name -> tenants-1-name), so the form posts — and the outbox queues — flat field names. */
(function () {
  "use strict";

  function renumber(row, prefix, index) {
    var pattern = new RegExp("^" + prefix + "-\\d+-");
    row.querySelectorAll("[name], [id], [for]").forEach(function (el) {
      ["name", "id", "for"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value && pattern.test(value)) el.setAttribute(attr, value.replace(pattern, prefix + "-" + index + "-"));
        if (attr === "id" && value && value.indexOf("field-" + prefix + "-") === 0) {
          el.setAttribute("id", value.replace(/^field-[a-z]+-\d+-/, "field-" + prefix + "-" + index + "-"));
        }
      });
    });
    var number = row.querySelector(".row-number");
    if (number) number.textContent = String(index + 1);
  }

  function clear(row) {
    row.querySelectorAll("input").forEach(function (input) {
      if (input.type === "checkbox") input.checked = false; else input.value = "";
      input.removeAttribute("aria-invalid");
    });
    row.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
    row.querySelectorAll(".error").forEach(function (el) { el.remove(); });
    row.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-row]");
    if (!button) return;
    var prefix = button.getAttribute("data-add-row");
    var form = button.closest("form");
    var rows = form.querySelectorAll('.repeat-row[data-row="' + prefix + '"]');
    var max = parseInt(button.getAttribute("data-max") || "30", 10);
    if (!rows.length || rows.length >= max) return;
    var last = rows[rows.length - 1];
    var copy = last.cloneNode(true);
    clear(copy);
    renumber(copy, prefix, rows.length);
    last.parentNode.insertBefore(copy, last.nextSibling);
    var first = copy.querySelector("input");
    if (first) first.focus();
  });
})();
