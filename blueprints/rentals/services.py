"""The rentals ledger's writes: register a household, add and end tenancies, inspect, resolve hazards.

Field records (registration, inspection) go through records.save_once, so the online POST and the
synced copy of one record create it once. Services own the transaction (`commit`).
"""
from datetime import timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from blueprints.residents import people
from blueprints.sync import records
from extensions import db
from models import Hazard, Inspection, RentalHousehold, Tenancy, audit
from models.users import COMMUNITY

CHINA = timezone(timedelta(hours=8))


def local_day(moment):
    """The station's calendar day of a timestamp (what "registered on" means)."""
    return moment.astimezone(CHINA).date()


def can_see_household(user, household: RentalHousehold | None) -> bool:
    if household is None or household.station_id != user.station_id:
        return False
    return people.sees_station(user) or household.grid_id in user.grid_ids or household.officer_id == user.id


def can_edit(user) -> bool:
    return user.role in people.LEDGER_EDITORS


def _other_open_tenancy(resident, household_id) -> Tenancy | None:
    if resident.id is None:
        return None
    return db.session.scalars(select(Tenancy).where(
        Tenancy.resident_id == resident.id, Tenancy.move_out.is_(None),
        Tenancy.household_id != household_id)).first()


def add_tenant(user, household: RentalHousehold, tenant, registered_on, warnings: list) -> Tenancy:
    """Create (or reuse) the tenant's Resident and their Tenancy; note a warning for a second home."""
    info = people.validate_document(tenant.doc_type.data, tenant.doc_number.data)
    phone = people.validate_phone(tenant.phone.data)
    resident, _created = people.find_or_create_resident(
        user, name=tenant.name.data, doc_type=tenant.doc_type.data, info=info, phone=phone,
        category="floating", address=household.address)
    other = _other_open_tenancy(resident, household.id)
    if other is not None:
        warnings.append(str(_l("%(name)s still lives at %(address)s (open tenancy); both are kept.",
                               name=resident.name, address=other.household.address.label)))
    tenancy = Tenancy(station_id=user.station_id, household=household, resident=resident,
                      move_in=tenant.move_in.data, move_out=tenant.move_out.data, registered_on=registered_on,
                      registration_delay_days=max(0, (registered_on - tenant.move_in.data).days))
    db.session.add(tenancy)
    return tenancy


def register_rental(user, form, *, via: str = "web", commit: bool = True) -> records.Outcome:
    """Register a rental household with its landlord and tenants, exactly once per client_id."""
    if not can_edit(user):
        return records.Outcome(records.REJECTED, errors={"form": [str(_l("Your role may not register."))]})
    warnings: list[str] = []

    def create():
        data = form.data
        address = people.find_or_create_address(
            user.station_id, community=data["community"], street=data["street"], building=data["building"],
            unit=data["unit"], room=data["room"], grid_id=data["grid_id"])
        info = people.validate_document(data["landlord_doc_type"], data["landlord_doc_number"])
        landlord, _created = people.find_or_create_resident(
            user, name=data["landlord_name"], doc_type=data["landlord_doc_type"], info=info,
            phone=people.validate_phone(data["landlord_phone"]), category="permanent")
        registered_on = local_day(form.recorded_at.data)
        household = RentalHousehold(
            station_id=user.station_id, address=address, grid_id=address.grid_id or data["grid_id"],
            landlord=landlord, officer_id=user.id, rooms=data["rooms"], use=data["use"],
            lease_start=data["lease_start"], lease_end=data["lease_end"],
            notes=(data["notes"] or "").strip() or None, client_id=form.client_id.data,
            registered_on=registered_on, recorded_at=form.recorded_at.data)
        db.session.add(household)
        db.session.flush()
        for tenant in form.filled_tenants():
            add_tenant(user, household, tenant, registered_on, warnings)
        audit("rental_registered", household, user=user, via=via)
        return household

    try:
        outcome = records.save_once(user, "rental", form, create, commit=commit)
    except people.LedgerError as error:  # the form validated the numbers; this is a safety net
        return records.Outcome(records.REJECTED, errors={error.field: [error.message]})
    if outcome.record is not None:
        outcome.record.warnings = warnings
    return outcome


def record_inspection(user, form, *, via: str = "web", commit: bool = True) -> records.Outcome:
    """Record an inspection with its hazards; the household's last inspection date follows."""
    household = db.session.get(RentalHousehold, int(form.household_id.data))
    if not can_see_household(user, household):
        return records.Outcome(records.REJECTED, errors={"household_id": [str(_l("No such household."))]})
    if not can_edit(user):
        return records.Outcome(records.REJECTED, errors={"form": [str(_l("Your role may not inspect."))]})

    def create():
        inspection = Inspection(
            station_id=user.station_id, household=household, officer_id=user.id,
            inspected_on=form.inspected_on.data, fire_extinguisher=form.fire_extinguisher.data,
            escape_route=form.escape_route.data, wiring_ok=form.wiring_ok.data,
            ebikes_indoors=form.ebikes_indoors.data, tenants_registered=form.tenants_registered.data,
            findings=(form.findings.data or "").strip() or None, client_id=form.client_id.data,
            recorded_at=form.recorded_at.data)
        for hazard in form.filled_hazards():
            inspection.hazards.append(Hazard(station_id=user.station_id, household_id=household.id,
                                             description=hazard.description.data.strip(),
                                             due_on=hazard.due_on.data))
        if household.last_inspected_on is None or household.last_inspected_on < form.inspected_on.data:
            household.last_inspected_on = form.inspected_on.data
        return inspection

    return records.save_once(user, "inspection", form, create, commit=commit)


def add_tenancy(user, household: RentalHousehold, tenant) -> list[str]:
    """Add one tenant to a household on file; returns warnings (a second open tenancy)."""
    warnings: list[str] = []
    add_tenant(user, household, tenant, people.today_local(), warnings)
    audit("tenancy_added", household, user=user)
    db.session.commit()
    return warnings


def end_tenancy(user, tenancy: Tenancy, move_out) -> None:
    """Record a move-out; it may not be before the move-in."""
    if move_out < tenancy.move_in:
        raise people.LedgerError("move_out", _l("Move-out is before move-in."))
    tenancy.move_out = move_out
    audit("tenancy_ended", tenancy, user=user)
    db.session.commit()


def resolve_hazard(user, hazard: Hazard, note: str | None) -> None:
    """Mark a hazard as rectified today (the follow-up)."""
    hazard.resolved_on = people.today_local()
    hazard.resolved_by_id = user.id
    hazard.resolution = (note or "").strip()[:200] or None
    audit("hazard_resolved", hazard, user=user)
    db.session.commit()
