"""Blueprint registration: one package per feature, its name = URL prefix = template folder."""
from importlib import import_module

from flask import Flask

# (package, url_prefix). Root-level routes (/, /healthz, /sw.js, /api/...) set their own paths.
BLUEPRINTS = (
    ("auth", "/auth"),
    ("home", None),
    ("admin", "/admin"),
    ("patrol", "/patrol"),
    ("sync", None),
    ("pwa", None),
    ("tasks", "/tasks"),
    ("command", "/command"),
    ("residents", "/residents"),
    ("rentals", "/rentals"),
    ("missing", "/missing"),
    ("visits", "/visits"),
)


def register_blueprints(app: Flask) -> None:
    """Import each feature's blueprint and register it; a missing package is a bug, not optional."""
    for name, prefix in BLUEPRINTS:
        module = import_module(f"blueprints.{name}")
        app.register_blueprint(module.bp, url_prefix=prefix)
