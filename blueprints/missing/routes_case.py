"""The steps of a case: a sighting (a field form), found, cancelled; the notice and the photos."""
from flask import abort, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.missing import bp, services
from blueprints.missing.forms import CancelForm, FoundForm, SightingForm
from blueprints.missing.routes import case_or_404, case_page, command_phone
from blueprints.sync import attachments, records
from extensions import db
from models import audit
from web import requires, see_other


@bp.post("/<int:case_id>/sightings")
@requires(*services.SIGHTING_ROLES)
def add_sighting(case_id: int):
    """Add a sighting (idempotent on client_id); 409 when the case is closed, 422 on bad input."""
    case = case_or_404(case_id)
    form, status = SightingForm(), 422
    if form.validate_on_submit():
        if form.case_id.data != case.id:
            form.case_id.errors.append(_("This sighting is for another case."))
        else:
            outcome = records.submit_online(current_user, services.SIGHTING_KIND, form)
            if outcome.status != records.REJECTED:
                return see_other(url_for("missing.show", case_id=case.id) + "#timeline")
    db.session.refresh(case)
    if not case.is_open:
        status = 409
    return case_page(case, status=status, fragment="missing/_sighting_form.html", sighting=form)


def _close_refused(case, refusal, **forms):
    db.session.rollback()
    if refusal.status == 403:
        abort(403)
    db.session.refresh(case)
    form = forms.get("found") or forms.get("cancel")
    if refusal.field in form._fields:
        form[refusal.field].errors = [*form[refusal.field].errors, refusal.message]
        return case_page(case, status=refusal.status, **forms)
    return case_page(case, status=refusal.status, close_error=refusal.message, **forms)


@bp.post("/<int:case_id>/found")
@requires(*services.FOUND_ROLES)
def found(case_id: int):
    """The person is found: closes the case and stands the banner down (409 when already closed)."""
    case = case_or_404(case_id)
    form = FoundForm()
    if not form.validate_on_submit():
        return case_page(case, status=409 if not case.is_open else 422, found=form,
                         close_error=None if case.is_open else _("This case is already closed."))
    try:
        services.mark_found(current_user, case, form)
    except services.CaseRefused as refusal:
        return _close_refused(case, refusal, found=form)
    return see_other(url_for("missing.show", case_id=case.id))


@bp.post("/<int:case_id>/cancel")
@requires(*services.CANCEL_ROLES)
def cancel(case_id: int):
    """Close the case as cancelled with a reason (422 without one, 409 when already closed)."""
    case = case_or_404(case_id)
    form = CancelForm()
    if not form.validate_on_submit():
        return case_page(case, status=409 if not case.is_open else 422, cancel=form,
                         close_error=None if case.is_open else _("This case is already closed."))
    try:
        services.cancel_case(current_user, case, form.reason.data)
    except services.CaseRefused as refusal:
        return _close_refused(case, refusal, cancel=form)
    return see_other(url_for("missing.show", case_id=case.id))


@bp.get("/<int:case_id>/notice")
@requires()
def notice(case_id: int):
    """The printable notice (寻人启事, A4); every opening is audited as a print."""
    case = case_or_404(case_id)
    audit("print_notice", case)
    db.session.commit()
    return render_template("missing/notice.html", case=case, phone=command_phone(),
                           station=current_user.station)


@bp.get("/photos/<kind>/<int:record_id>")
@requires()
def photo(kind: str, record_id: int):
    """A case's, sighting's or profile's photo, for users of its station; each download is audited
    (a revalidation answered 304 sends nothing and is not)."""
    if kind not in ("case", "sighting", "profile"):
        abort(404)
    attachment, record = services.photo_for(current_user, kind, record_id)
    if attachment is None:
        abort(404)
    response = send_file(attachments.attachment_path(attachment), mimetype="image/jpeg", etag=attachment.sha256,
                         conditional=True)
    response.headers["Cache-Control"] = "private, max-age=3600"
    if response.status_code == 200:
        audit("photo_download", record, kind=kind, attachment_id=attachment.id)
        db.session.commit()
    return response
