"""Views for leaders to manage the station's accounts."""
from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.admin import bp, services
from blueprints.admin.forms import ResetPasswordForm, UserForm
from extensions import db
from models import User
from models.users import LEADER
from errors import error_response
from web import render, requires, see_other


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
    return render("admin/user_form.html", form=form, user=user, reset=ResetPasswordForm())


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
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        return render("admin/user_form.html", form=UserForm(obj=user, grid_choices=_grid_choices()),
                      user=user, reset=form, status=422)
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
