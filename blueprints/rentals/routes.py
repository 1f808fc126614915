"""Views of the rentals ledger: list, register (field form), show, tenants, inspections, compliance."""
import uuid
from datetime import datetime, timezone

from flask import abort, flash, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.rentals import bp, ledger, services
from blueprints.rentals.forms import InspectionForm, MoveOutForm, RentalForm, TenancyPageForm, use_choices
from blueprints.residents import people
from blueprints.residents.people import LEDGER_EDITORS
from blueprints.sync import records
from blueprints.sync.attachments import attachment_path, find_attachment
from extensions import db
from models import Hazard, RentalHousehold, Tenancy
from web import render, requires, see_other

records.register("rental", RentalForm, services.register_rental, page="rentals.new",
                 summary="Register a rental household with its landlord and tenants (tenants-N-field).")
records.register("inspection", InspectionForm, services.record_inspection, page="rentals.new_inspection",
                 summary="Record a safety inspection of a rental household (hazards-N-field).")


@bp.record_once
def rental_labels(state):
    """The rentals' labels for every template, as Jinja globals set once: lazy strings, translated where they are
    shown (as a context processor these dicts were built again for every page rendered)."""
    state.app.jinja_env.globals.update({"use_labels": dict(use_choices()), "flag_labels": ledger.flag_labels()})


def _household_or_404(household_id: int) -> RentalHousehold:
    household = db.session.get(RentalHousehold, household_id)
    if not services.can_see_household(current_user, household):
        abort(404)
    return household


def _fresh_record(form):
    """A new client_id and the time the form opened (outbox.js refreshes both when it queues)."""
    form.client_id.data = str(uuid.uuid4())
    form.recorded_at.data = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return form


@bp.get("/")
@requires()
def index():
    """The rentals ledger: households with their flags; filter by grid, overdue, address or landlord."""
    q, grid_id = request.args.get("q", ""), request.args.get("grid", type=int)
    page, overdue = max(request.args.get("page", 1, type=int), 1), request.args.get("overdue") == "1"
    items, total = ledger.list_households(current_user, q=q, grid_id=grid_id, page=page, overdue_only=overdue,
                                          officer_id=request.args.get("officer", type=int))
    from blueprints.residents.forms import grid_choices

    # The labels translated once here, not once per row (they override rental_labels' lazy ones).
    return render("rentals/index.html", "rentals/_list.html", items=items, total=total, q=q, grid_id=grid_id,
                  page_no=page,
                  overdue=overdue, grids=grid_choices(current_user), page_size=ledger.PAGE_SIZE,
                  use_labels={code: str(label) for code, label in use_choices()},
                  flag_labels={code: str(label) for code, label in ledger.flag_labels().items()})


@bp.get("/new")
@requires(*LEDGER_EDITORS)
def new():
    """The registration form (works offline: the outbox queues it)."""
    form = _fresh_record(RentalForm())
    form.tenants.append_entry()
    return render("rentals/new.html", form=form)


@bp.post("/")
@requires(*LEDGER_EDITORS)
def create():
    """Register a household; the same client_id twice gives the first household."""
    form = RentalForm()
    if form.validate_on_submit():
        outcome = records.submit_online(current_user, "rental", form)
        if outcome.status != records.REJECTED:
            for warning in getattr(outcome.record, "warnings", None) or []:
                flash(warning, "warning")
            flash(_("Rental household registered."), "success")
            return see_other(url_for("rentals.show", household_id=outcome.id))
    return render("rentals/new.html", "rentals/_form.html", form=form, status=422)


@bp.get("/<int:household_id>")
@requires()
def show(household_id: int):
    """A household: landlord, tenants, inspections and hazards, and the rules it breaks."""
    household = _household_or_404(household_id)
    tenancy_form = TenancyPageForm()
    return render("rentals/show.html", household=household, flags=ledger.household_flags(household),
                  tenancy_form=tenancy_form, move_out=MoveOutForm(),
                  photo=find_attachment(household.station_id, household.client_id) if household.client_id else None,
                  today=people.today_local())


@bp.get("/<int:household_id>/photo")
@requires()
def photo(household_id: int):
    """The registration photo (cleaned JPEG, no EXIF)."""
    household = _household_or_404(household_id)
    attachment = find_attachment(household.station_id, household.client_id) if household.client_id else None
    if attachment is None:
        abort(404)
    return send_file(attachment_path(attachment), mimetype="image/jpeg", max_age=0)


@bp.post("/<int:household_id>/tenancies")
@requires(*LEDGER_EDITORS)
def add_tenancy(household_id: int):
    """Add a tenant to a household on file; a second open tenancy is a warning, not a block."""
    household = _household_or_404(household_id)
    form = TenancyPageForm()
    if form.validate_on_submit() and not form.tenant.form.is_blank():
        for warning in services.add_tenancy(current_user, household, form.tenant.form):
            flash(warning, "warning")
        flash(_("Tenant added."), "success")
        return see_other(url_for("rentals.show", household_id=household.id))
    if form.tenant.form.is_blank():
        form.tenant.form.name.errors = [_("Enter the name.")]
    return render("rentals/show.html", "rentals/_tenancy_form.html", household=household,
                  flags=ledger.household_flags(household), tenancy_form=form, move_out=MoveOutForm(),
                  photo=None, today=people.today_local(), status=422)


@bp.post("/tenancies/<int:tenancy_id>/move-out")
@requires(*LEDGER_EDITORS)
def move_out(tenancy_id: int):
    """Record a tenant's move-out."""
    tenancy = db.session.get(Tenancy, tenancy_id)
    if tenancy is None or not services.can_see_household(current_user, tenancy.household):
        abort(404)
    form = MoveOutForm()
    if form.validate_on_submit():
        try:
            services.end_tenancy(current_user, tenancy, form.move_out.data)
        except people.LedgerError as error:
            db.session.rollback()
            form.move_out.errors.append(error.message)
        else:
            flash(_("Move-out recorded."), "success")
            return see_other(url_for("rentals.show", household_id=tenancy.household_id))
    return render("rentals/move_out.html", "rentals/_move_out_form.html", tenancy=tenancy, form=form,
                  status=422)


@bp.get("/inspections/new")
@requires(*LEDGER_EDITORS)
def new_inspection():
    """The inspection form for a household (?household=ID); works offline."""
    form = _fresh_record(InspectionForm())
    household = None
    household_id = request.args.get("household", type=int)
    if household_id:
        household = _household_or_404(household_id)
        form.household_id.data = household.id
    form.inspected_on.data = people.today_local()
    return render("rentals/inspection.html", form=form, household=household)


@bp.post("/inspections")
@requires(*LEDGER_EDITORS)
def create_inspection():
    """Record an inspection; the same client_id twice gives the first inspection."""
    form = InspectionForm()
    household = None
    if str(form.household_id.data or "").isdigit():
        household = db.session.get(RentalHousehold, int(form.household_id.data))
        if not services.can_see_household(current_user, household):
            household = None
    if form.validate_on_submit():
        outcome = records.submit_online(current_user, "inspection", form)
        if outcome.status != records.REJECTED:
            flash(_("Inspection saved."), "success")
            return see_other(url_for("rentals.show", household_id=int(form.household_id.data)))
    return render("rentals/inspection.html", "rentals/_inspection_form.html", form=form, household=household,
                  status=422)


@bp.post("/hazards/<int:hazard_id>/resolve")
@requires(*LEDGER_EDITORS)
def resolve_hazard(hazard_id: int):
    """Mark a hazard as rectified (follow-up)."""
    hazard = db.session.get(Hazard, hazard_id)
    household = db.session.get(RentalHousehold, hazard.household_id) if hazard else None
    if hazard is None or not services.can_see_household(current_user, household):
        abort(404)
    from flask_wtf import FlaskForm

    if not FlaskForm().validate_on_submit():
        abort(400)
    services.resolve_hazard(current_user, hazard, request.form.get("note"))
    flash(_("Hazard marked as rectified."), "success")
    return see_other(url_for("rentals.show", household_id=household.id))


@bp.get("/compliance")
@requires()
def compliance():
    """What is overdue per grid and per officer, and the ledger's completeness per grid."""
    grids, officers = ledger.compliance_reports(current_user)
    return render("rentals/compliance.html", grids=grids, officers=officers, rules=ledger.Rules.from_config())


from blueprints.rentals import excel_routes  # noqa: E402,F401
