"""The main navigation: what each role sees in the tab bar (phone) or sidebar (desktop)."""
from flask import current_app, request
from flask_babel import lazy_gettext as _l

from models.users import CASE, COMMAND, COMMUNITY, LEADER
from web import fixed_url

# (endpoint, label, icon, roles). Features add their entries here; missing endpoints are skipped
# so the list can name features before they land.
NAV = (
    ("home.index", _l("Home"), "home", (COMMUNITY, COMMAND, CASE, LEADER)),
    ("command.index", _l("Command room"), "chart", (COMMAND, LEADER)),
    ("command.analysis_page", _l("Analysis"), "chart", (COMMAND, LEADER)),
    ("patrol.check_in", _l("Check in"), "pin", (COMMUNITY,)),
    ("patrol.today", _l("Patrols"), "list", (COMMUNITY,)),
    ("patrol.feed", _l("Check-ins"), "list", (COMMAND, LEADER)),
    ("patrol.points", _l("Patrol points"), "pin", (COMMAND, LEADER)),
    ("patrol.report", _l("Compliance"), "chart", (COMMAND, LEADER)),
    ("residents.index", _l("Residents"), "users", (COMMUNITY, COMMAND, CASE, LEADER)),
    ("rentals.index", _l("Rentals"), "home", (COMMUNITY, COMMAND, CASE, LEADER)),
    ("rentals.compliance", _l("Rental compliance"), "chart", (COMMAND, LEADER)),
    ("visits.index", _l("Visits"), "user", (COMMUNITY, COMMAND, CASE, LEADER)),
    ("visits.coverage_page", _l("Visit coverage"), "chart", (COMMAND, LEADER)),
    ("missing.index", _l("Missing persons"), "alert", (COMMUNITY, COMMAND, CASE, LEADER)),
    ("tasks.mine", _l("My tasks"), "list", (COMMUNITY, CASE)),
    ("tasks.index", _l("Tasks"), "list", (COMMAND, LEADER)),
    ("pwa.outbox", _l("Outbox"), "sync", (COMMUNITY, CASE)),
    ("admin.users", _l("Users"), "users", (LEADER,)),
    ("admin.audit_events", _l("Audit log"), "list", (LEADER,)),
    ("home.account", _l("Me"), "user", (COMMUNITY, COMMAND, CASE, LEADER)),
)


def nav_items(user) -> list[dict]:
    """Navigation entries for this user's role, marking the current one."""
    items = []
    for endpoint, label, icon, roles in NAV:
        if user.role not in roles or endpoint not in current_app.view_functions:
            continue
        active = request.endpoint == endpoint
        items.append({"url": fixed_url(endpoint), "label": label, "icon": icon, "active": active})
    return items


# The officer's big buttons: field forms, added by each feature (endpoint, label, icon).
QUICK_ACTIONS = (
    ("patrol.check_in", _l("Patrol check-in"), "pin"),
    ("visits.new", _l("Resident visit"), "user"),
    ("rentals.new", _l("Register rental"), "home"),
    ("missing.new", _l("Report missing person"), "alert"),
)


def quick_actions() -> list[dict]:
    """The field forms present in this build, as big buttons for the phone home."""
    return [
        {"url": fixed_url(endpoint), "label": label, "icon": icon}
        for endpoint, label, icon in QUICK_ACTIONS
        if endpoint in current_app.view_functions
    ]
