/* Pingan service worker: a versioned app shell, the officer's field-form pages, network-first
   navigations with a cache fallback and an offline page. API responses are never cached, nor any
   page the server marks X-Pingan-No-Cache (full ID numbers). The outbox lives in IndexedDB, so a
   new version of this file never loses queued records. Served from /sw.js, which puts the
   version (a hash of the static files) in place of the placeholder below. */
"use strict";

var VERSION = "__PINGAN_VERSION__";
var SHELL = "pingan-shell-" + VERSION;
var PAGES_PREFIX = "pingan-pages-";
var MANIFEST_URL = "/precache.json";
var PAGE_MAX_AGE_MS = 60 * 60 * 1000; // refresh a cached form page after an hour online
var SLOW_NETWORK_MS = 6000; // lie-fi: after this, a cached copy of the page beats waiting

importScripts("/static/vendor/idb-8.0.4.umd.js", "/static/js/outbox-core.js");

// Form pages are kept per officer, not per version: an update of this worker (while online) must
// not leave an officer who goes offline right after without the forms. They refresh by age.
function pagesCache(user) { return PAGES_PREFIX + "u" + user; }

function fetchManifest() {
  return fetch(MANIFEST_URL, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
    if (!r.ok) throw new Error("precache list: " + r.status);
    return r.json();
  });
}

/* Only a plain, complete HTML page of our own that the server allows to keep. */
function cacheable(response) {
  return response && response.ok && response.type === "basic" && !response.redirected &&
    response.headers.get("X-Pingan-No-Cache") !== "1" &&
    (response.headers.get("Content-Type") || "").indexOf("text/html") === 0;
}

function precacheShell(manifest) {
  return caches.open(SHELL).then(function (cache) {
    return cache.addAll(manifest.shell.map(function (url) { return new Request(url, { cache: "reload" }); }));
  });
}

/* Put a complete copy: the body is read first, so the old entry is replaced in one step (a
   streaming put hides the old entry until the body has arrived). */
function keep(cache, url, response) {
  var headers = response.headers, status = response.status;
  return response.blob().then(function (body) {
    return cache.put(url, new Response(body, { status: status, headers: headers }));
  });
}

var precaching = Promise.resolve();

/* The field-form pages of the logged-in officer (fetched with the session cookie), one run at a
   time; a page cached less than an hour ago is kept unless `refresh`. */
function precachePages(user, refresh) {
  precaching = precaching.catch(function () {}).then(function () { return precacheRun(user, refresh); });
  return precaching;
}

function precacheRun(user, refresh) {
  var name = pagesCache(user);
  return caches.keys().then(function (keys) {
    // Another officer's pages never stay on a shared phone.
    return Promise.all(keys.filter(function (k) { return k.indexOf(PAGES_PREFIX) === 0 && k !== name; })
      .map(function (k) { return caches.delete(k); }));
  }).then(fetchManifest).then(function (manifest) {
    if (String(manifest.user) !== String(user)) return null; // the session is not this page's user
    return caches.has(SHELL).then(function (has) { return has ? null : precacheShell(manifest); })
      .then(function () { return caches.open(name); })
      .then(function (cache) {
        return Promise.all(manifest.pages.map(function (url) {
          return cache.match(url).then(function (cached) {
            var date = cached && Date.parse(cached.headers.get("Date") || "");
            if (cached && !refresh && Date.now() - date < PAGE_MAX_AGE_MS) return null;
            return fetch(url, { credentials: "same-origin" }).then(function (response) {
              return cacheable(response) ? keep(cache, url, response) : null;
            });
          });
        }));
      });
  });
}

self.addEventListener("install", function (event) {
  event.waitUntil(fetchManifest().then(precacheShell).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  var updated = false;
  event.waitUntil(caches.keys().then(function (keys) {
    var old = keys.filter(function (key) {
      return key !== SHELL && key.indexOf(PAGES_PREFIX) !== 0; // old shells go; pages stay
    });
    updated = old.length > 0;
    return Promise.all(old.map(function (key) { return caches.delete(key); }));
  }).then(function () {
    return self.clients.claim();
  }).then(function () {
    // An update: refresh the officer's forms for the new version (kept as they were if offline).
    if (!updated) return null;
    return self.pinganOutboxCore.getMeta("user").then(function (user) {
      return user ? precachePages(user, true) : null;
    }).catch(function () {});
  }));
});

function clearAll() {
  return caches.keys().then(function (keys) {
    return Promise.all(keys.map(function (key) { return caches.delete(key); }));
  }).then(function () { return self.pinganOutboxCore.delMeta("user"); });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "logout") event.waitUntil(clearAll());
  else if (data.type === "precache" && data.user) {
    event.waitUntil(precachePages(data.user).then(function () {
      if (event.source) event.source.postMessage({ type: "precached", version: VERSION });
    }).catch(function () {}));
  }
  else if (data.type === "version" && event.source) event.source.postMessage({ type: "version", version: VERSION });
});

/* Network first; a cached copy of a listed page when the network fails (or hangs), else /offline. */
function navigate(event) {
  var request = event.request;
  var url = new URL(request.url);
  var cachedPage = caches.match(url.pathname, { ignoreSearch: true, ignoreVary: true }).then(function (hit) {
    return hit && hit.headers.get("X-Pingan-No-Cache") !== "1" ? hit : null;
  });
  var network = fetch(request).then(function (response) {
    // A fresh copy of a page already kept for offline use replaces the old one.
    return cachedPage.then(function (hit) {
      if (hit && cacheable(response)) {
        var copy = response.clone();
        event.waitUntil(caches.keys().then(function (keys) {
          var name = keys.filter(function (k) { return k.indexOf(PAGES_PREFIX) === 0; })[0];
          return name ? caches.open(name).then(function (c) { return keep(c, url.pathname, copy); }) : null;
        }));
      }
      return response;
    });
  });
  var slow = new Promise(function (resolve) {
    setTimeout(function () { cachedPage.then(function (hit) { if (hit) resolve(hit); }); }, SLOW_NETWORK_MS);
  });
  return Promise.race([network, slow]).catch(function () {
    return cachedPage.then(function (hit) {
      return hit || caches.match("/offline", { ignoreVary: true }).then(function (offline) {
        return offline || new Response("Offline", { status: 503, headers: { "Content-Type": "text/plain" } });
      });
    });
  });
}

/* Static files: from the versioned shell, else the network (and kept for next time). */
function staticFile(request) {
  return caches.open(SHELL).then(function (cache) {
    return cache.match(request, { ignoreVary: true }).then(function (hit) {
      return hit || fetch(request).then(function (response) {
        if (response.ok) cache.put(request, response.clone());
        return response;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/api/") === 0) return; // never cached, never answered from a cache
  if (request.mode === "navigate") event.respondWith(navigate(event));
  else if (url.pathname.indexOf("/static/") === 0) event.respondWith(staticFile(request));
});

/* Background Sync: open tabs flush themselves; with none open, this worker sends the queue of
   the officer last seen logged in (same code, same cross-tab lock). */
self.addEventListener("sync", function (event) {
  if (event.tag !== "pingan-outbox") return;
  event.waitUntil(self.clients.matchAll({ type: "window" }).then(function (windows) {
    if (windows.length) {
      windows.forEach(function (w) { w.postMessage({ type: "flush" }); });
      return null;
    }
    var core = self.pinganOutboxCore;
    return core.getMeta("user").then(function (user) {
      if (!user) return null;
      return core.getMeta("paused:" + user).then(function (paused) {
        if (paused) return null;
        return core.flushFor(user).then(function (result) {
          if (result.status === "offline" || result.status === "busy") throw new Error("retry later");
        });
      });
    });
  }));
});
