"""Vulnerable-person profiles: the residents at risk of wandering off, each with what helps find them."""
from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.missing import bp, services
from blueprints.missing.forms import ProfileForm
from blueprints.missing.routes import map_settings
from blueprints.residents.people import can_see_resident
from blueprints.sync import attachments
from extensions import db
from models import Resident
from web import render, requires, see_other


def _resident_or_404(resident_id: int) -> Resident:
    resident = db.session.get(Resident, resident_id) if 0 < resident_id <= services.MAX_ID else None
    if resident is None or not can_see_resident(current_user, resident):
        abort(404)
    return resident


@bp.get("/profiles")
@requires()
def profiles():
    """Residents tagged 走失风险 (or with a profile) the user may see, with a one-tap report each."""
    rows = [(r, p) for r, p in services.at_risk_residents(current_user.station_id) if can_see_resident(current_user, r)]
    return render("missing/profiles.html", rows=rows, can_report=current_user.role in services.REPORT_ROLES)


@bp.get("/profiles/<int:resident_id>")
@requires()
def profile(resident_id: int):
    """A resident's profile: photo, description, routines, medical notes, contacts, places found before."""
    resident = _resident_or_404(resident_id)
    profile = services.profile_of(resident.id)
    cases = services.cases_of(resident)
    return render("missing/profile.html", resident=resident, profile=profile, cases=cases,
                  can_report=current_user.role in services.REPORT_ROLES,
                  can_edit=current_user.role in services.PROFILE_EDITORS, **map_settings())


def _edit_page(resident, form, status=200):
    return render("missing/profile_form.html", status=status, resident=resident, form=form,
                  profile=services.profile_of(resident.id))


@bp.get("/profiles/<int:resident_id>/edit")
@requires(*services.PROFILE_EDITORS)
def edit_profile(resident_id: int):
    """The profile form (new or existing)."""
    resident = _resident_or_404(resident_id)
    profile = services.profile_of(resident.id)
    return _edit_page(resident, ProfileForm(obj=profile) if profile else ProfileForm())


@bp.post("/profiles/<int:resident_id>")
@requires(*services.PROFILE_EDITORS)
def update_profile(resident_id: int):
    """Save the profile (and tag the resident 走失风险); a bad photo answers 422, nothing else lost."""
    resident = _resident_or_404(resident_id)
    form = ProfileForm()
    if form.validate_on_submit():
        try:
            services.save_profile(current_user, resident, form, form.photo.data)
        except attachments.PhotoError as error:
            db.session.rollback()
            form.photo.errors.append(attachments.photo_message(error.code))
        else:
            flash(_("Profile saved."), "success")
            return see_other(url_for("missing.profile", resident_id=resident.id))
    return _edit_page(resident, form, status=422)
