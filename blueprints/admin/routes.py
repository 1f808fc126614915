"""Views for leaders to manage the station's accounts."""
from flask import abort, flash, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.admin import audit_log, bp, services
from blueprints.admin.forms import AuditFilterForm, ResetPasswordForm, UnlockForm, UserForm
from extensions import db
from models import User
from models.users import LEADER
from errors import error_response
from web import render, requires, see_other


@bp.record_once
def audit_helpers(state):
    """The audit log's formatters for every template, as Jinja globals (set once, not per page)."""
    state.app.jinja_env.globals.update({"audit_time": audit_log.local_time, "audit_action": audit_log.action_label,
                                        "audit_detail": audit_log.detail_text})


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.station_id != current_user.station_id:
        abort(404)
    return user


def _grid_choices():
    return [(g.id, g.name) for g in services.station_grids(current_user.station_id)]


@bp.get("/")
@requires(LEADER)
def users():
    """List the station's accounts."""
    return render("admin/users.html", users=services.station_users(current_user.station_id))


@bp.get("/users/new")
@requires(LEADER)
def new_user():
    """Show the form for a new account."""
    return render("admin/user_form.html", form=UserForm(grid_choices=_grid_choices()), user=None)


@bp.post("/users")
@requires(LEADER)
def create_user():
    """Create an account."""
    form = UserForm(grid_choices=_grid_choices())
    if form.validate_on_submit():
        try:
            services.create_user(current_user.station_id, form.data)
        except services.AccountError as error:
            db.session.rollback()
            getattr(form, error.field).errors.append(error.message)
        else:
            flash(_("Account created."), "success")
            return see_other(url_for("admin.users"))
    return render("admin/user_form.html", "admin/_user_form.html", form=form, user=None, status=422)


@bp.get("/users/<int:user_id>/edit")
@requires(LEADER)
def edit_user(user_id: int):
    """Show the edit form of an account."""
    user = _user_or_404(user_id)
    form = UserForm(obj=user, grid_choices=_grid_choices())
    form.grids.data = user.grid_ids
    return render("admin/user_form.html", form=form, user=user, reset=ResetPasswordForm(username=user.username),
                  unlock=UnlockForm())


@bp.post("/users/<int:user_id>")
@requires(LEADER)
def update_user(user_id: int):
    """Save changes to an account."""
    user = _user_or_404(user_id)
    form = UserForm(grid_choices=_grid_choices())
    if form.validate_on_submit():
        try:
            services.update_user(user, form.data)
        except services.AccountError as error:
            db.session.rollback()
            getattr(form, error.field).errors.append(error.message)
        else:
            flash(_("Account saved."), "success")
            return see_other(url_for("admin.users"))
    return render("admin/user_form.html", "admin/_user_form.html", form=form, user=user, status=422)


@bp.post("/users/<int:user_id>/password")
@requires(LEADER)
def reset_password(user_id: int):
    """Set a new password for an account (its sessions end)."""
    user = _user_or_404(user_id)
    form = ResetPasswordForm(username=user.username)
    if not form.validate_on_submit():
        return render("admin/user_form.html", form=UserForm(obj=user, grid_choices=_grid_choices()),
                      user=user, reset=form, unlock=UnlockForm(), status=422)
    services.reset_password(user, form.password.data)
    flash(_("Password reset. The user must log in again."), "success")
    return see_other(url_for("admin.users"))


@bp.post("/users/<int:user_id>/active")
@requires(LEADER)
def toggle_active(user_id: int):
    """Deactivate or reactivate an account; a leader cannot deactivate themself."""
    user = _user_or_404(user_id)
    if user.id == current_user.id:
        return error_response(400, _("You cannot deactivate your own account."))
    services.set_active(user, not user.active)
    flash(_("Account deactivated.") if not user.active else _("Account reactivated."), "success")
    return see_other(url_for("admin.users"))


@bp.post("/users/<int:user_id>/unlock")
@requires(LEADER)
def unlock_user(user_id: int):
    """Unlock an account locked by failed logins (audited)."""
    user = _user_or_404(user_id)
    if not UnlockForm().validate_on_submit():
        abort(400)
    if user.is_locked:
        services.unlock(user)
        flash(_("Account unlocked. The user can log in again."), "success")
    return see_other(url_for("admin.edit_user", user_id=user.id))


def _audit_filters() -> tuple[AuditFilterForm, audit_log.Filters | None, dict]:
    """The filter form read from the query string, and the filters when they are valid."""
    choices = audit_log.choices(current_user.station_id)
    form = AuditFilterForm(request.args, **choices)
    if not form.validate():
        return form, None, choices
    user_id = int(form.user.data) if (form.user.data or "").isdigit() else None
    return form, audit_log.Filters(action=form.action.data or None, user_id=user_id,
                                   object_type=form.object_type.data or None, start=form.start.data,
                                   end=form.end.data), choices


@bp.get("/audit")
@requires(LEADER)
def audit_events():
    """The station's audit log, newest first, filtered by action, user, record type and dates; paged."""
    form, filters, _choices = _audit_filters()
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)  # a huge offset is no page
    if filters is None:
        return render("admin/audit.html", "admin/_audit_table.html", form=form, events=[], has_next=False,
                      page_no=1, args={}, status=422)
    events, has_next = audit_log.events_page(current_user.station_id, filters, page)
    return render("admin/audit.html", "admin/_audit_table.html", form=form, events=events, has_next=has_next,
                  page_no=page, args=filters.as_args())


@bp.get("/audit.xlsx")
@requires(LEADER)
def audit_export():
    """The filtered audit log as Excel; the export is itself an audited event."""
    form, filters, _choices = _audit_filters()
    if filters is None:
        return error_response(422, "; ".join(e for errors in form.errors.values() for e in errors))
    data, _count = audit_log.export_xlsx(current_user, filters)
    return send_file(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     as_attachment=True, download_name="audit-log.xlsx")
