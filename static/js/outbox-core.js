/* Pingan offline outbox, the core: a field form that cannot reach the server waits in IndexedDB
   (fields, photo Blobs, the officer's id) and is sent later to POST /api/sync, exactly once.

   An item leaves the outbox only when the server names its client_id as created or duplicate;
   a rejected item waits in "needs attention" for the officer; a 401 (or a session of another
   account) pauses the queue; nothing is ever dropped silently.

   No DOM here: pages (outbox.js) and the service worker (Background Sync) share this file.
   It needs the vendored `idb` (global `idb`) and exposes `self.pinganOutboxCore`. */
(function (global) {
  "use strict";

  var DB_NAME = "pingan-outbox";
  var LOCK_NAME = "pingan-outbox-flush";
  var CHANNEL = "pingan-outbox";
  var SYNC_TAG = "pingan-outbox";
  var MAX_ITEMS = 100; // the server's limit per batch
  var MAX_BYTES = 900 * 1024; // under the server's 1 MB, with room for the envelope
  var ENVELOPE = ["csrf_token", "client_id", "recorded_at"];
  var QUEUED = "queued", SENDING = "sending", REJECTED = "rejected";

  // --- storage --------------------------------------------------------------------------------
  var dbPromise = null;

  function open() {
    if (!dbPromise) {
      dbPromise = global.idb.openDB(DB_NAME, 1, {
        upgrade: function (db) {
          var items = db.createObjectStore("items", { keyPath: "client_id" });
          items.createIndex("user", "user_id");
          db.createObjectStore("meta");
        }
      });
    }
    return dbPromise;
  }

  function getMeta(key) { return open().then(function (db) { return db.get("meta", key); }); }
  function setMeta(key, value) { return open().then(function (db) { return db.put("meta", value, key); }); }
  function delMeta(key) { return open().then(function (db) { return db.delete("meta", key); }); }

  function allItems() {
    return open().then(function (db) { return db.getAll("items"); }).then(function (items) {
      return items.sort(function (a, b) { return a.created_at - b.created_at; });
    });
  }

  function itemsOf(user) {
    return allItems().then(function (items) {
      return items.filter(function (item) { return String(item.user_id) === String(user); });
    });
  }

  function putItem(item) { return open().then(function (db) { return db.put("items", item); }); }
  function getItem(id) { return open().then(function (db) { return db.get("items", id); }); }
  function deleteItem(id) { return open().then(function (db) { return db.delete("items", id); }); }

  var channel = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel(CHANNEL) : null;
  var listeners = [];
  function changed() {
    if (channel) channel.postMessage("changed");
    listeners.forEach(function (fn) { fn(); });
  }
  if (channel) channel.onmessage = function () { listeners.forEach(function (fn) { fn(); }); };

  function uuid() {
    return global.crypto.randomUUID();
  }

  function deviceId() {
    return getMeta("device").then(function (id) {
      if (id) return id;
      id = uuid();
      return setMeta("device", id).then(function () { return id; });
    });
  }

  /* Queue one record; resolves with the number of this user's items now waiting. */
  function enqueue(entry) {
    var item = {
      client_id: entry.client_id, kind: entry.kind, recorded_at: entry.recorded_at,
      user_id: String(entry.user_id), data: entry.data || {}, files: entry.files || {},
      uploaded: {}, state: QUEUED, errors: {}, created_at: Date.now(), attempts: 0,
      page: entry.page || null
    };
    return putItem(item).then(function () {
      changed();
      askPersistence();
      requestBackgroundSync();
      return itemsOf(item.user_id);
    }).then(function (items) { return items.length; });
  }

  /* Ask once that the browser never evicts the outbox under storage pressure. */
  function askPersistence() {
    var storage = global.navigator && global.navigator.storage;
    if (!storage || !storage.persist) return;
    getMeta("persist-asked").then(function (asked) {
      if (asked) return;
      return setMeta("persist-asked", true).then(function () { return storage.persist(); });
    }).catch(function () { /* best effort */ });
  }

  function requestBackgroundSync() {
    var sw = global.navigator && global.navigator.serviceWorker;
    if (!sw || typeof document === "undefined") return;
    sw.ready.then(function (registration) {
      if (registration.sync) return registration.sync.register(SYNC_TAG);
    }).catch(function () { /* no Background Sync: page triggers do it */ });
  }

  // --- sending ----------------------------------------------------------------------------------
  function FlushStop(status, retryAfter) {
    this.status = status;
    this.retryAfter = retryAfter || 0;
  }

  function retryAfterOf(response) {
    var value = parseInt(response.headers.get("Retry-After") || "", 10);
    return isFinite(value) && value > 0 ? value : 0;
  }

  function stopFor(response) {
    if (response.status === 401 || response.status === 409) return new FlushStop("paused");
    return new FlushStop("busy", retryAfterOf(response));
  }

  function headers(user, extra) {
    var h = { "X-Requested-With": "pingan-sync", "X-Pingan-User": String(user) };
    Object.keys(extra || {}).forEach(function (k) { h[k] = extra[k]; });
    return h;
  }

  function messageOf(response) {
    return response.json().then(function (body) { return body.message || String(response.status); },
      function () { return String(response.status); });
  }

  function reject(item, errors) {
    item.state = REJECTED;
    item.errors = errors;
    return putItem(item);
  }

  /* Send the photos of `item` not yet acknowledged; false when the item was rejected for one. */
  function uploadFiles(item, user) {
    var fields = Object.keys(item.files || {}).filter(function (f) { return !item.uploaded[f]; });
    return fields.reduce(function (chain, field) {
      return chain.then(function (ok) {
        if (!ok) return false;
        var body = new FormData();
        body.append("client_id", item.client_id);
        body.append("field", field);
        body.append("file", item.files[field], field + ".jpg");
        return fetch("/api/sync/attachments", {
          method: "POST", credentials: "same-origin", headers: headers(user), body: body
        }).then(function (response) {
          if (response.status === 200 || response.status === 201) {
            item.uploaded[field] = true;
            return putItem(item).then(function () { return true; });
          }
          if ([400, 413, 415, 422].indexOf(response.status) >= 0) {
            return messageOf(response).then(function (message) {
              var errors = {};
              errors[field] = [message];
              return reject(item, errors).then(function () { return false; });
            });
          }
          throw stopFor(response);
        });
      });
    }, Promise.resolve(true));
  }

  function wireItem(item) {
    return { client_id: item.client_id, kind: item.kind, recorded_at: item.recorded_at, data: item.data };
  }

  function chunks(items) {
    var out = [], current = [], size = 0;
    items.forEach(function (item) {
      var bytes = new Blob([JSON.stringify(wireItem(item))]).size;
      if (current.length && (current.length >= MAX_ITEMS || size + bytes > MAX_BYTES)) {
        out.push(current);
        current = [];
        size = 0;
      }
      current.push(item);
      size += bytes;
    });
    if (current.length) out.push(current);
    return out;
  }

  function sendChunk(chunk, user, device, outcome) {
    return fetch("/api/sync", {
      method: "POST", credentials: "same-origin",
      headers: headers(user, { "Content-Type": "application/json" }),
      body: JSON.stringify({ device_id: device, items: chunk.map(wireItem) })
    }).then(function (response) {
      if (response.status === 200) {
        return response.json().then(function (body) {
          var byId = {};
          chunk.forEach(function (item) { byId[item.client_id] = item; });
          return Promise.all((body.results || []).map(function (result) {
            var item = byId[result.client_id];
            if (!item) return null;
            delete byId[result.client_id];
            if (result.status === "created" || result.status === "duplicate") {
              outcome.sent += 1;
              return deleteItem(item.client_id);
            }
            outcome.rejected += 1;
            return reject(item, result.errors || {});
          })).then(function () {
            outcome.synced = true;
            return setMeta("last-sync:" + user, body.server_time || new Date().toISOString());
          });
          // Items the answer did not name stay queued (byId): they go again next time.
        });
      }
      if (response.status === 413 && chunk.length > 1) {
        var half = Math.ceil(chunk.length / 2);
        return sendChunk(chunk.slice(0, half), user, device, outcome).then(function () {
          return sendChunk(chunk.slice(half), user, device, outcome);
        });
      }
      if (response.status === 400 || response.status === 413) {
        // The server will never take these as they are: the officer decides (never dropped).
        return messageOf(response).then(function (message) {
          outcome.rejected += chunk.length;
          return Promise.all(chunk.map(function (item) { return reject(item, { _server: [message] }); }));
        });
      }
      throw stopFor(response);
    });
  }

  function flushLocked(user) {
    var outcome = { status: "ok", sent: 0, rejected: 0, left: 0, retryAfter: 0, synced: false };
    var pending;
    return itemsOf(user).then(function (items) {
      pending = items.filter(function (item) { return item.state !== REJECTED; });
      if (!pending.length) {
        outcome.status = "idle";
        return null;
      }
      pending.forEach(function (item) { item.state = SENDING; item.attempts += 1; });
      return Promise.all(pending.map(putItem)).then(function () {
        changed();
        return deviceId();
      }).then(function (device) {
        return pending.reduce(function (chain, item) {
          return chain.then(function (ready) {
            return uploadFiles(item, user).then(function (ok) { if (ok) ready.push(item); return ready; });
          });
        }, Promise.resolve([])).then(function (ready) {
          return chunks(ready).reduce(function (chain, chunk) {
            return chain.then(function () { return sendChunk(chunk, user, device, outcome); });
          }, Promise.resolve());
        });
      });
    }).then(function () {
      return delMeta("paused:" + user);
    }, function (error) {
      if (error instanceof FlushStop) {
        outcome.status = error.status;
        outcome.retryAfter = error.retryAfter;
        if (error.status === "paused") return setMeta("paused:" + user, Date.now());
        return null;
      }
      outcome.status = "offline"; // fetch failed: no network, or the server is unreachable
      return null;
    }).then(function () {
      // Whatever was not acknowledged goes back to the queue: tried again later, never lost.
      return itemsOf(user);
    }).then(function (items) {
      var back = items.filter(function (item) { return item.state === SENDING; });
      back.forEach(function (item) { item.state = QUEUED; });
      outcome.left = items.filter(function (item) { return item.state !== REJECTED; }).length;
      return Promise.all(back.map(putItem));
    }).then(function () {
      changed();
      return outcome;
    });
  }

  /* Send `user`'s queued items; one flush at a time across tabs and the service worker. */
  function flushFor(user) {
    if (!user) return Promise.resolve({ status: "no-user", sent: 0, rejected: 0, left: 0 });
    var locks = global.navigator && global.navigator.locks;
    if (locks && locks.request) {
      return locks.request(LOCK_NAME, function () { return flushLocked(user); });
    }
    return flushLocked(user);
  }

  var core = {
    open: open, enqueue: enqueue, flushFor: flushFor, allItems: allItems, itemsOf: itemsOf,
    getItem: getItem, putItem: putItem, deleteItem: deleteItem, getMeta: getMeta, setMeta: setMeta,
    delMeta: delMeta, changed: changed, onChange: function (fn) { listeners.push(fn); }, uuid: uuid,
    QUEUED: QUEUED, SENDING: SENDING, REJECTED: REJECTED, ENVELOPE: ENVELOPE
  };
  global.pinganOutboxCore = core;
})(self);
