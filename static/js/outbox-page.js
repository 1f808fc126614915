/* The outbox page (/outbox): what waits on this phone, filled from IndexedDB by outbox.js's
   "pingan:outbox" event. Queued and sending records, the ones that need attention (fix the fields
   and send again, or discard with a second tap), and the time of the last successful sync. */
(function () {
  "use strict";
  var page = document.getElementById("outbox-page");
  if (!page || !window.pinganOutbox) return;

  var core = self.pinganOutboxCore, api = window.pinganOutbox;
  var zh = (document.documentElement.lang || "").indexOf("zh") === 0;
  var T = zh ? {
    queued: "待同步", sending: "正在发送", rejected: "需要处理", photo: "含照片", none: "没有待同步的记录。",
    noneRejected: "没有需要处理的记录。", resend: "修改后重新发送", discard: "删除", confirm: "再点一次确认删除",
    dropPhoto: "不带照片发送", others: "另有 {n} 条记录属于其他账号，需该账号登录后发送。", never: "尚未同步",
    paused: "登录已失效：请重新登录后继续同步。", offline: "无网络：恢复连接后自动发送。", problem: "问题"
  } : {
    queued: "Queued", sending: "Sending", rejected: "Needs attention", photo: "with photo", none: "Nothing waiting.",
    noneRejected: "Nothing needs attention.", resend: "Send again", discard: "Discard", confirm: "Tap again to discard",
    dropPhoto: "Send without the photo", others: "{n} more records belong to another account; they are sent when it logs in.",
    never: "Not yet", paused: "Your session has ended: log in again to continue syncing.",
    offline: "No connection: records are sent when it returns.", problem: "Problem"
  };
  var KINDS = zh ? {
    checkin: "巡逻签到", visit: "走访", rental: "出租房登记", inspection: "出租房检查", missing_report: "走失报告",
    sighting: "线索", task_feedback: "指令反馈"
  } : {
    checkin: "Patrol check-in", visit: "Visit", rental: "Rental registration", inspection: "Inspection",
    missing_report: "Missing-person report", sighting: "Sighting", task_feedback: "Task feedback"
  };
  var FIELDS = zh ? {
    lat: "纬度", lon: "经度", accuracy: "精度（米）", point_id: "巡逻点", qr_token: "二维码编号", note: "备注", photo: "照片"
  } : {
    lat: "Latitude", lon: "Longitude", accuracy: "Accuracy (m)", point_id: "Patrol point", qr_token: "QR code",
    note: "Note", photo: "Photo"
  };
  var lastRejectedKey = null;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function when(iso) {
    var d = new Date(iso);
    return isNaN(d) ? String(iso) : d.toLocaleString(zh ? "zh-CN" : "en-GB", { hour12: false });
  }

  function summary(item) {
    var li = el("li", { "class": "outbox-item", "data-client-id": item.client_id, "data-state": item.state });
    li.appendChild(el("strong", {}, KINDS[item.kind] || item.kind));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("time", { datetime: item.recorded_at }, when(item.recorded_at)));
    if (item.data && item.data.note) li.appendChild(el("span", { "class": "muted" }, " · " + item.data.note));
    if (Object.keys(item.files || {}).length) li.appendChild(el("span", { "class": "muted" }, " · " + T.photo));
    li.appendChild(el("span", { "class": "outbox-state" }, " " + T[item.state]));
    return li;
  }

  function fixForm(item) {
    var li = summary(item), form = el("form", { "class": "outbox-fix", novalidate: "" });
    var general = Object.keys(item.errors || {}).filter(function (k) { return !(k in item.data) && !(k in (item.files || {})); });
    general.forEach(function (key) {
      item.errors[key].forEach(function (m) { form.appendChild(el("p", { "class": "error" }, m)); });
    });
    // The fields the server named are the ones to fix; without any, every field is offered.
    var named = Object.keys(item.data).filter(function (key) { return (item.errors || {})[key]; });
    (named.length ? named : Object.keys(item.data)).forEach(function (key) {
      if (Array.isArray(item.data[key])) return;
      var id = "fix-" + item.client_id + "-" + key, wrap = el("div", { "class": "field" });
      wrap.appendChild(el("label", { "class": "label", "for": id }, FIELDS[key] || key));
      var input = el("input", { id: id, name: key, type: "text" });
      input.value = item.data[key] === null ? "" : String(item.data[key]);
      wrap.appendChild(input);
      (item.errors[key] || []).forEach(function (m) {
        wrap.classList.add("has-error");
        wrap.appendChild(el("p", { "class": "error" }, m));
      });
      form.appendChild(wrap);
    });
    Object.keys(item.files || {}).forEach(function (key) {
      (item.errors[key] || []).forEach(function (m) { form.appendChild(el("p", { "class": "error" }, m)); });
    });
    if (Object.keys(item.files || {}).length) {
      var drop = el("label", { "class": "check" });
      drop.appendChild(el("input", { type: "checkbox", name: "__drop_files" }));
      drop.appendChild(document.createTextNode(" " + T.dropPhoto));
      form.appendChild(drop);
    }
    form.appendChild(el("button", { type: "submit", "class": "button primary resend" }, T.resend));
    form.appendChild(document.createTextNode(" "));
    form.appendChild(el("button", { type: "button", "class": "button discard" }, T.discard));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      resend(item, form);
    });
    form.querySelector(".discard").addEventListener("click", function (event) {
      var button = event.currentTarget;
      if (!button.dataset.armed) {
        button.dataset.armed = "1";
        button.textContent = T.confirm;
        return;
      }
      core.deleteItem(item.client_id).then(core.changed);
    });
    li.appendChild(form);
    return li;
  }

  /* The fixed record goes again under a new client_id: a rejected one created nothing. */
  function resend(item, form) {
    var data = {};
    Object.keys(item.data).forEach(function (key) {
      var input = form.elements.namedItem(key);
      data[key] = input ? input.value : item.data[key];
    });
    var drop = form.elements.namedItem("__drop_files");
    var fixed = {};
    Object.keys(item).forEach(function (k) { fixed[k] = item[k]; });
    fixed.client_id = core.uuid();
    fixed.data = data;
    fixed.files = drop && drop.checked ? {} : item.files;
    fixed.uploaded = {};
    fixed.state = core.QUEUED;
    fixed.errors = {};
    return core.putItem(fixed).then(function () { return core.deleteItem(item.client_id); }).then(function () {
      core.changed();
      return api.flush();
    });
  }

  function fill(list, items, empty, make) {
    list.replaceChildren();
    if (!items.length) list.appendChild(el("li", { "class": "muted" }, empty));
    items.forEach(function (item) { list.appendChild(make(item)); });
  }

  function draw(items, last) {
    var waiting = items.filter(function (i) { return i.state !== core.REJECTED; });
    var rejected = items.filter(function (i) { return i.state === core.REJECTED; });
    fill(document.getElementById("outbox-queued"), waiting, T.none, summary);
    // Don't wipe a fix the officer is typing when only the queue changed.
    var key = rejected.map(function (i) { return i.client_id + JSON.stringify(i.errors); }).join("|");
    if (key !== lastRejectedKey) {
      lastRejectedKey = key;
      fill(document.getElementById("outbox-rejected"), rejected, T.noneRejected, fixForm);
    }
    var status = document.getElementById("outbox-status");
    if (status) {
      status.textContent = last && last.status === "paused" ? T.paused : last && last.status === "offline" ? T.offline : "";
    }
    return Promise.all([core.getMeta("last-sync:" + api.user), core.allItems()]).then(function (found) {
      document.getElementById("last-sync").textContent = found[0] ? when(found[0]) : T.never;
      var others = found[1].filter(function (i) { return String(i.user_id) !== String(api.user); }).length;
      var note = document.getElementById("outbox-others");
      if (note) {
        note.hidden = others === 0;
        note.textContent = T.others.replace("{n}", String(others));
      }
      page.dataset.state = "ready";
    });
  }

  document.addEventListener("pingan:outbox", function (event) { draw(event.detail.items, event.detail.last); });
  var button = document.getElementById("sync-now");
  if (button) button.addEventListener("click", function () { api.flush(); });
  api.render();
})();
