"""Views of visits on the phone: record a visit (field form), pick its subject, follow-ups, history."""
import uuid

from flask import abort, flash, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.sync import attachments, records
from blueprints.visits import bp, services, subjects
from blueprints.visits.forms import VisitForm, outcome_choices, place_type_choices, purpose_choices, \
    subject_type_choices
from models import utcnow
from models.visits import SUBJECT_TYPES
from web import render, requires, see_other


def visit_labels() -> dict:
    """The visits' labels as lazy strings (translated where they are shown)."""
    from flask_babel import lazy_gettext as _l

    return {"purpose_labels": dict(purpose_choices()), "outcome_labels": dict(outcome_choices()),
            "subject_type_labels": dict(subject_type_choices()), "place_type_labels": dict(place_type_choices()),
            "period_labels": {"morning": _l("in the morning (8–12)"), "afternoon": _l("in the afternoon (12–17)"),
                              "evening": _l("in the evening (17–21)")},
            "reason_labels": {"elderly_alone": _l("Elderly living alone"), "wander_risk": _l("Risk of wandering off"),
                              "rental_overdue": _l("Tenant of a rental overdue for inspection"),
                              "task": _l("Named in a task")}}


@bp.record_once
def _visit_label_globals(state):
    """The visits' labels for every template, as Jinja globals set once (as a context processor
    these dicts were built again for every page rendered)."""
    state.app.jinja_env.globals.update(visit_labels())


def _fresh_form(**data) -> VisitForm:
    """An empty visit form with a new record id and the server's time (outbox.js refreshes both)."""
    form = VisitForm(formdata=None, **data)
    form.client_id.data = str(uuid.uuid4())
    form.recorded_at.data = utcnow().isoformat(timespec="seconds")
    return form


def _chosen(form):
    """The subject named by the form, when the user may see it (to show its label again)."""
    if form.subject_type.data in SUBJECT_TYPES and isinstance(form.subject_id.data, int) \
            and 0 < form.subject_id.data <= 2**31 - 1:
        return subjects.visible(current_user, form.subject_type.data, form.subject_id.data)
    return None


def _form_page(form, *, status=200, follow_up=None):
    return render("visits/new.html", "visits/_form.html", status=status, form=form, chosen=_chosen(form),
                  follow_up=follow_up, today=services.today_local())


@bp.get("/new")
@requires(*services.RECORD_ROLES)
def new():
    """The visit form; ?subject_type=&subject_id= picks the subject, ?follow_up= answers a follow-up."""
    form = _fresh_form()
    follow_up = services.follow_up_for(current_user, request.args.get("follow_up", 0, type=int))
    if follow_up is not None and follow_up.done_visit_id is None:
        form.subject_type.data, form.subject_id.data = follow_up.subject_type, follow_up.subject_id
        form.follow_up_id.data, form.purpose.data = follow_up.id, "follow_up"
    elif request.args.get("subject_type") in SUBJECT_TYPES:
        form.subject_type.data = request.args["subject_type"]
        form.subject_id.data = request.args.get("subject_id", type=int)
    return _form_page(form, follow_up=follow_up)


@bp.post("/")
@requires(*services.RECORD_ROLES)
def create():
    """Record a visit (idempotent on client_id); 422 with the message beside the field."""
    form = VisitForm()
    if form.validate_on_submit():
        # The answer's messages are in the officer's language: read from the user as loaded, not again.
        with records.answer_from_memory():
            outcome = records.submit_online(current_user, services.KIND, form)
        if outcome.status != records.REJECTED:
            flash(_("This visit was already saved.") if outcome.status == records.DUPLICATE
                  else _("Visit saved."), "success")
            if form.follow_up.data:
                flash(_("Follow-up added for %(date)s.", date=form.follow_up_due.data.isoformat()), "success")
            return see_other(url_for("visits.show", visit_id=outcome.id))
    return _form_page(form, status=422)


@bp.get("/subjects")
@requires(*services.RECORD_ROLES)
def subject_search():
    """Active search for the subject of a visit: residents, households or places of my grids."""
    subject_type = request.args.get("subject_type", "resident")
    if subject_type not in SUBJECT_TYPES:
        subject_type = "resident"
    q = request.args.get("q", "")[:60]
    return render("visits/subjects.html", "visits/_subjects.html", subject_type=subject_type, q=q,
                  results=subjects.search(current_user, subject_type, q))


@bp.get("/")
@requires(*services.READ_ROLES)
def index():
    """Visits: an officer's latest and links to plan and follow-ups; the station's latest for others."""
    return render("visits/index.html", visits=services.recent_visits(current_user),
                  follow_ups_due=services.officer_counts(current_user, None, None).get("follow_ups_due", 0))


@bp.get("/<int:visit_id>")
@requires(*services.READ_ROLES)
def show(visit_id: int):
    """One visit: subject, purpose, outcome, notes, photo, follow-ups it created."""
    visit = services.visit_for(current_user, visit_id)
    if visit is None:
        abort(404)
    # The relationship attributes are named like the subject types: resident, household, place.
    label = subjects.subject_label(visit.subject_type, getattr(visit, visit.subject_type))
    return render("visits/show.html", visit=visit, label=label, follow_ups=services.follow_ups_of(visit))


@bp.get("/<int:visit_id>/photo")
@requires(*services.READ_ROLES)
def photo(visit_id: int):
    """A visit's photo (cleaned JPEG, no EXIF), for whoever may see the visit."""
    visit = services.visit_for(current_user, visit_id)
    if visit is None or visit.photo is None:
        abort(404)
    response = send_file(attachments.attachment_path(visit.photo), mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.get("/for/<subject_type>/<int:subject_id>")
@requires(*services.READ_ROLES)
def history(subject_type: str, subject_id: int):
    """A subject's visits, newest first: the fragment the resident's and household's pages load lazily."""
    subject = subjects.visible(current_user, subject_type, subject_id) \
        if subject_type in SUBJECT_TYPES and 0 < subject_id <= 2**31 - 1 else None
    if subject is None:
        abort(404)
    rows, total = services.history(subject)
    return render("visits/history.html", "visits/_history.html", subject=subject, visits=rows, total=total,
                  can_record=current_user.role in services.RECORD_ROLES)


@bp.get("/places/<int:place_id>")
@requires(*services.READ_ROLES)
def place(place_id: int):
    """A place (实有单位/场所) and its visits."""
    subject = subjects.visible(current_user, "place", place_id) if 0 < place_id <= 2**31 - 1 else None
    if subject is None:
        abort(404)
    rows, total = services.history(subject)
    return render("visits/place.html", subject=subject, place=subject.record, visits=rows, total=total,
                  can_record=current_user.role in services.RECORD_ROLES)


@bp.get("/follow-ups")
@requires(*services.RECORD_ROLES)
def follow_ups():
    """My follow-ups: due and overdue first (oldest due date first), each done by recording the visit."""
    return render("visits/follow_ups.html", follow_ups=services.my_follow_ups(current_user),
                  today=services.today_local())
