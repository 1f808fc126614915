"""Manifest, service worker script, offline fallback and the outbox page."""
from flask import current_app, jsonify, send_from_directory, url_for
from flask_babel import gettext as _

from blueprints.pwa import bp
from web import render, requires


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


@bp.get("/sw.js")
def service_worker():
    """The service worker, served from the root so its scope is the whole app."""
    response = send_from_directory(current_app.static_folder, "sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/offline")
def offline():
    """The page the service worker shows when a page is neither online nor cached."""
    return render("pwa/offline.html")


@bp.get("/outbox")
@requires()
def outbox():
    """Records waiting on this phone: filled in by outbox.js from IndexedDB."""
    return render("pwa/outbox.html")
