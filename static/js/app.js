/* Pingan page glue: CSRF for htmx, toasts, service worker registration. No inline script (CSP). */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // One listener sends the CSRF token with every htmx request.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  function toast(title, message, level) {
    var box = document.getElementById("toasts");
    var template = document.getElementById("toast-template");
    if (!box || !template) return;
    var node = template.content.firstElementChild.cloneNode(true);
    node.classList.add("toast-" + (level || "info"));
    node.querySelector(".toast-title").textContent = title || "";
    node.querySelector(".toast-message").textContent = message || "";
    box.appendChild(node);
    setTimeout(function () { node.remove(); }, 6000);
  }
  window.pinganToast = toast;

  // A request that never reached the server (offline, DNS, reset): say so instead of doing nothing.
  document.addEventListener("htmx:sendError", function (event) {
    if (event.detail.elt && event.detail.elt.closest("[data-outbox]")) return; // the outbox handles it
    var zh = document.documentElement.lang.indexOf("zh") === 0;
    toast(zh ? "无网络" : "No connection", zh ? "请求未发出，请稍后再试。" : "The request was not sent. Try again later.", "error");
  });

  // Toasts swapped in by the server disappear on their own too.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "toasts") {
      var last = event.detail.target.lastElementChild;
      if (last) setTimeout(function () { last.remove(); }, 6000);
    }
  });

  // The logout form: tell the service worker to drop its caches before the session ends.
  document.addEventListener("submit", function (event) {
    if (event.target.id === "logout-form" && navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "logout" });
    }
  });

  if ("serviceWorker" in navigator && document.querySelector('meta[name="pingan-user"]')) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* no SW: online only */ });
  }
})();
