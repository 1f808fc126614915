"""Manifest, service worker script, its precache list, offline fallback and the outbox page."""
import hashlib
import os

from flask import current_app, jsonify, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.pwa import bp
from blueprints.sync.records import KINDS
from web import render, requires

VERSION_PLACEHOLDER = "__PINGAN_VERSION__"
# Pages every logged-in officer can open offline besides the field forms: the start page and
# the outbox itself.
OFFLINE_PAGES = ("home.index", "pwa.outbox")


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest: installable, standalone, Chinese name first."""
    data = {
        "name": _("Pingan community policing"),
        "short_name": _("Pingan"),
        "lang": "zh-CN",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b3d91",
        "icons": [
            {"src": url_for("static", filename="icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": url_for("static", filename="icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": url_for("static", filename="icons/icon-512-maskable.png"), "sizes": "512x512",
             "type": "image/png", "purpose": "maskable"},
        ],
    }
    response = jsonify(data)
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "no-cache"
    return response


def static_files() -> list[str]:
    """Every file of the app shell under static/, as paths relative to it (sw.js itself excluded)."""
    root = current_app.static_folder
    found = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            relative = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
            if relative != "sw.js" and not name.startswith(".") and not relative.lower().endswith(".md"):
                found.append(relative)
    return sorted(found)


def shell_version() -> str:
    """A hash of the static files (names, sizes, times), sw.js and APP_VERSION.

    Any change gives the service worker script new bytes, so browsers install the new version,
    which precaches the new shell and deletes the old caches.
    """
    root = current_app.static_folder
    digest = hashlib.sha256(str(current_app.config.get("APP_VERSION", "1")).encode())
    for relative in [*static_files(), "sw.js"]:
        stat = os.stat(os.path.join(root, relative))
        digest.update(f"{relative}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:16]


@bp.get("/sw.js")
def service_worker():
    """The service worker, served from the root so its scope is the whole app, with its version."""
    with open(os.path.join(current_app.static_folder, "sw.js"), encoding="utf-8") as handle:
        source = handle.read().replace(VERSION_PLACEHOLDER, shell_version())
    response = current_app.response_class(source, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/precache.json")
def precache():
    """What the service worker keeps for offline use: the shell, and this officer's form pages.

    A page is listed when its kind registered one; the worker keeps only the pages that answer
    200 for this user (a role that may not open one gets 403) and never one marked
    X-Pingan-No-Cache.
    """
    shell = [url_for("static", filename=name) for name in static_files()] + [url_for("pwa.offline")]
    pages = []
    if current_user.is_authenticated:
        endpoints = [*OFFLINE_PAGES, *(kind.page for kind in KINDS.values() if kind.page)]
        for endpoint in dict.fromkeys(endpoints):
            if endpoint in current_app.view_functions:
                pages.append(url_for(endpoint))
    return jsonify({"version": shell_version(), "user": current_user.get_id().split(":")[0]
                    if current_user.is_authenticated else None, "shell": shell, "pages": pages})


@bp.get("/offline")
def offline():
    """The page the service worker shows when a page is neither online nor cached."""
    return render("pwa/offline.html")


@bp.get("/outbox")
@requires()
def outbox():
    """Records waiting on this phone: filled in by outbox-page.js from IndexedDB."""
    return render("pwa/outbox.html")
