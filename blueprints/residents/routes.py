"""Views of the residents ledger: search, add, edit, show (masked), reveal (audited), Excel."""
import re

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.residents import bp, people, services
from blueprints.residents.forms import ResidentForm, RevealForm
from blueprints.residents.people import LEDGER_EDITORS, LedgerError
from domain.phone import mask_phone
from extensions import db
from models import Resident
from web import render, requires, see_other


# A Chinese number as normalise_phone stores it, whose national digits phonenumbers keeps as they
# are (China's national_prefix_for_parsing, `(1(?:[12]\d|79)\d\d)|0`, does not match their start):
# masked here without parsing it, to the same text (tests/test_residents.py checks both agree).
_PLAIN_CN = re.compile(r"\+86(?!1(?:[12]\d|79)\d\d)([1-9]\d{7,10})")


@bp.app_template_filter("mask_phone")
def mask_phone_filter(e164: str | None) -> str:
    """`138****5678` for a Chinese number; other countries keep their code."""
    plain = _PLAIN_CN.fullmatch(e164) if e164 else None
    if plain:  # mask_phone's rule: first 3 and last 4 national digits shown
        national = plain.group(1)
        return national[:3] + "*" * (len(national) - 7) + national[-4:]
    masked = mask_phone(e164)
    return masked[4:] if masked.startswith("+86 ") else masked


@bp.app_template_filter("mask_doc")
def mask_doc_filter(number: str | None) -> str:
    """`140581********1235`: see people.mask_document."""
    return people.mask_document(number)


@bp.record_once
def ledger_labels(state):
    """The residents' labels for every template, as Jinja globals set once: lazy strings, translated where they are
    shown (as a context processor these dicts were built again for every page rendered)."""
    state.app.jinja_env.globals.update({"doc_type_labels": people.labels(people.doc_type_choices()),
                                        "category_labels": people.labels(people.category_choices()),
                                        "tag_labels": people.labels(people.tag_choices())})


def _mask_numbers(form, resident: Resident) -> None:
    """Show the stored number and phone masked: the full ones only come through an audited reveal."""
    if form.doc_number.data == resident.doc_number:
        form.doc_number.data = people.mask_document(resident.doc_number)
    if resident.phone and form.phone.data in (resident.phone, None):
        form.phone.data = mask_phone_filter(resident.phone)


def _unmask_unchanged(form, resident: Resident) -> None:
    """A masked value sent back untouched means "keep what is stored"; anything else is a new value."""
    if form.doc_number.data == people.mask_document(resident.doc_number):
        form.doc_number.data = resident.doc_number
    if resident.phone and form.phone.data == mask_phone_filter(resident.phone):
        form.phone.data = resident.phone


def _resident_or_404(resident_id: int) -> Resident:
    resident = db.session.get(Resident, resident_id)
    if resident is None or not people.can_see_resident(current_user, resident):
        abort(404)
    return resident


def _put_error(form, error: LedgerError) -> None:
    getattr(form, error.field).errors.append(error.message)


@bp.get("/")
@requires()
def index():
    """Find a person as you type; the list of results is its own fragment."""
    q = request.args.get("q", "")
    results = services.search_rows(current_user, q)
    # The labels translated once here, not once per row (they override ledger_labels' lazy ones).
    return render("residents/index.html", "residents/_results.html", q=q, results=results,
                  tag_labels={code: str(label) for code, label in people.tag_choices()},
                  category_labels={code: str(label) for code, label in people.category_choices()})


@bp.get("/new")
@requires(*LEDGER_EDITORS)
def new():
    """The form for a new resident."""
    return render("residents/form.html", form=ResidentForm(), resident=None)


@bp.post("/")
@requires(*LEDGER_EDITORS)
def create():
    """Add a resident; a number already on file answers 422 with a link to that person."""
    form, existing = ResidentForm(), None
    if form.validate_on_submit():
        try:
            resident = services.create_resident(current_user, form.data)
        except services.DuplicateResident as error:
            existing = error.existing
            _put_error(form, error)
        except LedgerError as error:
            db.session.rollback()
            _put_error(form, error)
        else:
            flash(_("Resident saved."), "success")
            return see_other(url_for("residents.show", resident_id=resident.id))
    return render("residents/form.html", "residents/_form.html", form=form, resident=None,
                  existing=existing, status=422)


@bp.get("/<int:resident_id>")
@requires()
def show(resident_id: int):
    """A resident's record with the number and phone masked."""
    resident = _resident_or_404(resident_id)
    from blueprints.rentals.ledger import tenancies_of

    return render("residents/show.html", resident=resident, reveal=RevealForm(),
                  tenancies=tenancies_of(resident))


@bp.get("/<int:resident_id>/edit")
@requires(*LEDGER_EDITORS)
def edit(resident_id: int):
    """The edit form of a resident."""
    resident = _resident_or_404(resident_id)
    form = ResidentForm(obj=resident)
    form.tags.data = resident.tag_list
    _mask_numbers(form, resident)
    if resident.address:
        for part in ("community", "street", "building", "unit", "room", "grid_id"):
            getattr(form, part).data = getattr(resident.address, part)
    response = render("residents/form.html", form=form, resident=resident)
    # Personal data even when masked: the service worker never keeps this page.
    response.headers["X-Pingan-No-Cache"] = "1"
    return response


@bp.post("/<int:resident_id>")
@requires(*LEDGER_EDITORS)
def update(resident_id: int):
    """Save changes to a resident."""
    resident, existing = _resident_or_404(resident_id), None
    form = ResidentForm()
    _unmask_unchanged(form, resident)
    if form.validate_on_submit():
        try:
            services.update_resident(current_user, resident, form.data)
        except services.DuplicateResident as error:
            db.session.rollback()
            existing = error.existing
            _put_error(form, error)
        except LedgerError as error:
            db.session.rollback()
            _put_error(form, error)
        else:
            flash(_("Resident saved."), "success")
            return see_other(url_for("residents.show", resident_id=resident.id))
    _mask_numbers(form, resident)
    return render("residents/form.html", "residents/_form.html", form=form, resident=resident,
                  existing=existing, status=422)


@bp.post("/<int:resident_id>/reveal")
@requires()
def reveal(resident_id: int):
    """The full number as a fragment, after a typed reason; audited, never cached or put in a URL."""
    resident = _resident_or_404(resident_id)
    form = RevealForm()
    from blueprints.rentals.ledger import tenancies_of

    if not form.validate_on_submit():
        return render("residents/show.html", "residents/_reveal_form.html", resident=resident, reveal=form,
                      tenancies=tenancies_of(resident), status=422)
    number = services.reveal_id_number(current_user, resident, form.reason.data)
    response = render("residents/show.html", "residents/_id_full.html", resident=resident, number=number,
                      tenancies=tenancies_of(resident))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Pingan-No-Cache"] = "1"  # the service worker never stores this response
    return response


from blueprints.residents import excel_routes  # noqa: E402,F401
