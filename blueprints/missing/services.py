"""The work of missing persons: reports and sightings (field records), found and cancel, who may do
what. Every change of a case bumps the station's alert version in the same transaction and
publishes it after the commit (alerts.py)."""
import functools
from datetime import datetime, timedelta, timezone

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import joinedload

from blueprints.home.services import LOCAL_TZ
from blueprints.missing import alerts
from blueprints.sync import attachments, records
from extensions import db
from models import Resident, User, audit, utcnow
from models.missing import (CANCEL, CANCELLED, FOUND, OPEN, REPORTED, SIGHTING, CaseEvent, MissingPersonCase,
                            Sighting, VulnerableProfile)
from models.users import CASE, COMMAND, COMMUNITY, LEADER

REPORT_KIND, SIGHTING_KIND = "missing_report", "sighting"
REPORT_ROLES = (COMMUNITY, COMMAND, LEADER)
SIGHTING_ROLES = (COMMUNITY, COMMAND, CASE, LEADER)
FOUND_ROLES = (COMMUNITY, COMMAND, LEADER)
CANCEL_ROLES = (COMMAND, LEADER)
MANAGE_ROLES = (COMMAND, LEADER)  # the search map, officers by distance, tasks
PROFILE_EDITORS = (COMMUNITY, COMMAND, LEADER)
WANDER_TAG = "wander_risk"  # 走失风险 on Resident.tags
MAX_ID = 2**31 - 1


class CaseRefused(Exception):
    """A step that may not happen: the HTTP status, the message, and the field it belongs to."""

    def __init__(self, status: int, message: str, field: str = "case_id"):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


# --- reading ------------------------------------------------------------------------------------------

def case_for(user, case_id: int) -> MissingPersonCase | None:
    """A case of the user's station (every station user sees every case), or None."""
    if not 0 < case_id <= MAX_ID:
        return None
    case = db.session.get(MissingPersonCase, case_id)
    return case if case is not None and case.station_id == user.station_id else None


def open_cases(station_id: int, limit: int = 20) -> list[MissingPersonCase]:
    """The station's open cases, the latest reported first, with their photos."""
    return list(db.session.scalars(select(MissingPersonCase).where(
        MissingPersonCase.station_id == station_id, MissingPersonCase.status == OPEN)
        .order_by(MissingPersonCase.created_at.desc(), MissingPersonCase.id.desc()).limit(limit)))


def recently_closed(station_id: int, hours: int = 24, limit: int = 20) -> list[MissingPersonCase]:
    """Cases closed in the last `hours`, newest first (the banner's one-time "found" notices)."""
    since = utcnow() - timedelta(hours=hours)
    return list(db.session.scalars(select(MissingPersonCase).where(
        MissingPersonCase.station_id == station_id, MissingPersonCase.closed_at >= since)
        .order_by(MissingPersonCase.closed_at.desc()).limit(limit)))


def closed_cases(station_id: int, limit: int = 50) -> list[MissingPersonCase]:
    return list(db.session.scalars(select(MissingPersonCase).where(
        MissingPersonCase.station_id == station_id, MissingPersonCase.status != OPEN)
        .order_by(MissingPersonCase.closed_at.desc(), MissingPersonCase.id.desc()).limit(limit)))


def cases_of(resident: Resident) -> list[MissingPersonCase]:
    """Every case of this resident, newest first (repeat episodes)."""
    return list(db.session.scalars(select(MissingPersonCase).where(
        MissingPersonCase.station_id == resident.station_id, MissingPersonCase.resident_id == resident.id)
        .order_by(MissingPersonCase.last_seen_at.desc())))


@functools.cache
def _sightings_statement():
    return (select(Sighting.lat, Sighting.lon, Sighting.place).where(Sighting.case_id == bindparam("case_id"))
            .order_by(Sighting.seen_at, Sighting.id))


@functools.cache
def _timeline_statement():
    return (select(CaseEvent).options(joinedload(CaseEvent.user), joinedload(CaseEvent.sighting))
            .where(CaseEvent.case_id == bindparam("case_id")).order_by(CaseEvent.created_at, CaseEvent.id))


def sightings_of(case: MissingPersonCase) -> list:
    """The case's sightings for the map, in the order seen: rows of (lat, lon, place) (the timeline
    prints the sightings themselves, from its events). The statements here are built once."""
    return db.session.execute(_sightings_statement(), {"case_id": case.id}).all()


def timeline(case: MissingPersonCase) -> list[CaseEvent]:
    """Every step of the case, oldest first, with who did it and the sighting it records."""
    return list(db.session.scalars(_timeline_statement(), {"case_id": case.id}))


def profile_of(resident_id: int | None) -> VulnerableProfile | None:
    if resident_id is None:
        return None
    return db.session.scalars(select(VulnerableProfile).where(VulnerableProfile.resident_id == resident_id)).first()


def station_profiles(station_id: int) -> list[VulnerableProfile]:
    """The station's vulnerable-person profiles, by name (the report form's person choices)."""
    return list(db.session.scalars(select(VulnerableProfile).join(VulnerableProfile.resident)
                                   .options(joinedload(VulnerableProfile.resident))
                                   .where(VulnerableProfile.station_id == station_id).order_by(Resident.name)))


def at_risk_residents(station_id: int) -> list[tuple[Resident, VulnerableProfile | None]]:
    """Residents tagged 走失风险 or with a profile, each with its profile (two queries)."""
    profiles = {p.resident_id: p for p in station_profiles(station_id)}
    tagged = db.session.scalars(select(Resident).where(
        Resident.station_id == station_id, Resident.tags.like(f"% {WANDER_TAG} %")).order_by(Resident.name).limit(500))
    seen, rows = set(), []
    for resident in tagged:
        seen.add(resident.id)
        rows.append((resident, profiles.get(resident.id)))
    rows += [(p.resident, p) for rid, p in profiles.items() if rid not in seen]
    return sorted(rows, key=lambda row: row[0].name)


def age_of(resident: Resident, on: datetime | None = None) -> int | None:
    if resident.birth_date is None:
        return None
    today = (on or datetime.now(LOCAL_TZ)).date()
    born = resident.birth_date
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


# --- reporting (a field record) -----------------------------------------------------------------------

def _add_event(case: MissingPersonCase, user, action: str, **fields) -> CaseEvent:
    event = CaseEvent(case_id=case.id, station_id=case.station_id, user_id=user.id, action=action, **fields)
    db.session.add(event)
    return event


def _build_case(user, form, via: str) -> MissingPersonCase:
    """Inside save_once's savepoint: the case, its photo (new, else the profile's) and its first event."""
    resident_id, profile = form.resident_id.data, None
    if resident_id is not None:
        resident = db.session.get(Resident, resident_id)
        if resident is None or resident.station_id != user.station_id:
            raise CaseRefused(422, _("This person is not on file."), field="resident_id")
        profile = profile_of(resident_id)
    photo = attachments.record_photo(user, form)
    photo_id = photo.id if photo else (profile.photo_id if profile else None)
    now = utcnow()
    case = MissingPersonCase(
        station_id=user.station_id, resident_id=resident_id, name=form.name.data.strip(),
        sex=form.sex.data or "unknown", age=form.age.data, height_cm=form.height_cm.data,
        clothing=(form.clothing.data or "").strip() or None, description=(form.description.data or "").strip() or None,
        photo_id=photo_id, risk=form.risk.data, last_seen_at=form.last_seen_at.data,
        last_seen_place=form.last_seen_place.data.strip(), last_seen_lat=form.lat.data, last_seen_lon=form.lon.data,
        circumstances=(form.circumstances.data or "").strip() or None,
        reporter_name=(form.reporter_name.data or "").strip() or None, reporter_phone=form.reporter_phone.data,
        status=OPEN, reported_by_id=user.id, client_id=form.client_id.data, via=via,
        recorded_at=form.recorded_at.data, created_at=now, updated_at=now)
    db.session.add(case)
    db.session.flush()
    _add_event(case, user, REPORTED, created_at=now)
    alerts.bump(user.station_id)
    return case


def record_report(user, form, *, via: str = "online", commit: bool = True) -> records.Outcome:
    """Open a case once per client_id (the online POST and its synced copy are one case)."""
    if user.role not in REPORT_ROLES:
        return records.Outcome(records.REJECTED, errors={"name": [_("Your role may not report a missing person.")]})
    try:
        outcome = records.save_once(user, REPORT_KIND, form, lambda: _build_case(user, form, via), commit=commit)
    except CaseRefused as refusal:
        return records.Outcome(records.REJECTED, errors={refusal.field: [refusal.message]})
    if commit and outcome.status == records.CREATED:
        alerts.publish(user.station_id)
    return outcome


# --- sightings (a field record) -----------------------------------------------------------------------

def _build_sighting(user, form, via: str) -> Sighting:
    case = case_for(user, form.case_id.data)
    if case is None:
        raise CaseRefused(404, _("This case does not exist."))
    if not case.is_open:
        raise CaseRefused(409, _("This case is closed: the person was found or the case cancelled."))
    photo = attachments.record_photo(user, form)
    now = utcnow()
    sighting = Sighting(case_id=case.id, station_id=case.station_id, user_id=user.id, seen_at=form.seen_at.data,
                        place=form.place.data.strip(), lat=form.lat.data, lon=form.lon.data,
                        note=(form.note.data or "").strip() or None, photo_id=photo.id if photo else None,
                        client_id=form.client_id.data, via=via, created_at=now)
    db.session.add(sighting)
    db.session.flush()
    _add_event(case, user, SIGHTING, sighting_id=sighting.id, created_at=now)
    db.session.execute(update(MissingPersonCase).where(MissingPersonCase.id == case.id).values(updated_at=now))
    alerts.bump(case.station_id)
    return sighting


def record_sighting(user, form, *, via: str = "online", commit: bool = True) -> records.Outcome:
    """Add a sighting to an open case once per client_id; a closed case answers rejected (409)."""
    try:
        outcome = records.save_once(user, SIGHTING_KIND, form, lambda: _build_sighting(user, form, via),
                                    commit=commit)
    except CaseRefused as refusal:
        return records.Outcome(records.REJECTED, errors={refusal.field: [refusal.message]})
    if commit and outcome.status == records.CREATED:
        alerts.publish(user.station_id)
    return outcome


# --- closing ------------------------------------------------------------------------------------------

def _close(case: MissingPersonCase, **values) -> None:
    """Close the case only if it is still open in the database (two people closing: one wins)."""
    now = utcnow()
    result = db.session.execute(update(MissingPersonCase).where(
        MissingPersonCase.id == case.id, MissingPersonCase.status == OPEN).values(
        closed_at=now, updated_at=now, **values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise CaseRefused(409, _("This case is already closed."), field="_form")
    db.session.refresh(case)


def mark_found(user, case: MissingPersonCase, form) -> None:
    """Found: record who, where, when and condition, close the case, add the place to the profile."""
    if user.role not in FOUND_ROLES:
        raise CaseRefused(403, _("Your role may not close a case."))
    if not case.is_open:
        raise CaseRefused(409, _("This case is already closed."), field="_form")
    if form.found_at.data < case.last_seen_at:
        raise CaseRefused(422, _("The person cannot be found before they were last seen (%(when)s).",
                                 when=case.last_seen_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")),
                          field="found_at")
    _close(case, status=FOUND, closed_by_id=user.id, found_at=form.found_at.data,
           found_place=form.found_place.data.strip(), found_lat=form.lat.data, found_lon=form.lon.data,
           found_by=form.found_by.data.strip(), condition=form.condition.data,
           close_note=(form.note.data or "").strip() or None)
    _add_event(case, user, FOUND, note=(form.note.data or "").strip()[:500] or None)
    profile = profile_of(case.resident_id)
    if profile is not None:
        place = {"place": case.found_place, "lat": case.found_lat, "lon": case.found_lon,
                 "found_at": case.found_at.isoformat(), "case_id": case.id}
        profile.places_found = [*(profile.places_found or []), place]  # a new list: JSON changes are seen
    alerts.bump(case.station_id)
    db.session.commit()
    alerts.publish(case.station_id)


def cancel_case(user, case: MissingPersonCase, reason: str) -> None:
    """Close the case as cancelled, with the reason (command room and leaders)."""
    if user.role not in CANCEL_ROLES:
        raise CaseRefused(403, _("Your role may not cancel a case."))
    if not case.is_open:
        raise CaseRefused(409, _("This case is already closed."), field="reason")
    _close(case, status=CANCELLED, closed_by_id=user.id, close_note=reason.strip())
    _add_event(case, user, CANCEL, note=reason.strip()[:500])
    alerts.bump(case.station_id)
    db.session.commit()
    alerts.publish(case.station_id)


# --- profiles -----------------------------------------------------------------------------------------

def save_profile(user, resident: Resident, form, photo_file) -> VulnerableProfile:
    """Create or update the resident's profile (photo re-encoded); raises PhotoError, commits."""
    profile = profile_of(resident.id)
    if profile is None:
        profile = VulnerableProfile(station_id=resident.station_id, resident_id=resident.id, places_found=[])
        db.session.add(profile)
    if photo_file:
        profile.photo_id = attachments.store_photo(user, photo_file, client_id=None, field="profile").id
    profile.risk = form.risk.data
    profile.height_cm = form.height_cm.data
    for name in ("description", "routines", "medical_notes", "emergency_contacts"):
        setattr(profile, name, (getattr(form, name).data or "").strip() or None)
    profile.updated_by_id = user.id
    if WANDER_TAG not in resident.tag_list:
        resident.tags = " " + " ".join([*resident.tag_list, WANDER_TAG]) + " "
    db.session.flush()
    audit("profile_saved", profile)
    db.session.commit()
    return profile


def report_prefill(resident: Resident, profile: VulnerableProfile | None) -> dict:
    """What a report from a profile starts with: the officer adds time, place and clothing."""
    data = {"resident_id": resident.id, "name": resident.name, "sex": resident.sex or "unknown",
            "age": age_of(resident)}
    if profile is not None:
        data.update(risk=profile.risk, height_cm=profile.height_cm, description=profile.description)
    return data


# --- the command room's search ------------------------------------------------------------------------

@functools.cache
def _officers_statement():
    """The station's active officers by name, each with their latest check-in with a position since
    :since (or NULLs): one statement, built once (its SQL and cache key are the same every time)."""
    from models import CheckIn

    recent = (CheckIn.station_id == bindparam("station_id"), CheckIn.recorded_at >= bindparam("since"),
              CheckIn.lat.is_not(None))
    last = (select(CheckIn.officer_id, func.max(CheckIn.recorded_at).label("at"))
            .where(*recent).group_by(CheckIn.officer_id).subquery())
    latest = (select(CheckIn.officer_id, CheckIn.lat, CheckIn.lon, CheckIn.recorded_at, CheckIn.id)
              .join(last, (CheckIn.officer_id == last.c.officer_id) & (CheckIn.recorded_at == last.c.at))
              .where(*recent).subquery())
    return (select(User.id, User.name, latest.c.lat, latest.c.lon, latest.c.recorded_at,
                   latest.c.id.label("check_in_id"))
            .outerjoin(latest, latest.c.officer_id == User.id)
            .where(User.station_id == bindparam("station_id"), User.active.is_(True), User.role == COMMUNITY)
            .order_by(User.name, User.id, latest.c.id))


class _Officer:
    __slots__ = ("id", "name")

    def __init__(self, id_: int, name: str):
        self.id, self.name = id_, name


class _CheckIn:
    __slots__ = ("id", "lat", "lon", "recorded_at")

    def __init__(self, id_: int, lat: float, lon: float, recorded_at: datetime):
        self.id, self.lat, self.lon, self.recorded_at = id_, lat, lon, recorded_at


def officers_by_distance(case: MissingPersonCase, radius_m: int, hours: int = 12) -> list[dict]:
    """Officers of the station with their latest check-in of the last `hours`: inside the radius
    first (nearest first), then the others; officers without a recent check-in last. One statement:
    the database picks each officer's latest check-in (one row per officer, not every check-in).
    Each row's officer is an (id, name) object, not a User: the list and the map print the name only."""
    since = utcnow() - timedelta(hours=hours)
    officers = {}  # id -> [officer, check_in]; two check-ins at the same instant: the later id wins
    for row in db.session.execute(_officers_statement(), {"station_id": case.station_id, "since": since}):
        entry = officers.get(row.id)
        if entry is None:
            entry = officers[row.id] = [_Officer(row.id, row.name), None]
        if row.check_in_id is not None:
            entry[1] = _CheckIn(row.check_in_id, row.lat, row.lon, row.recorded_at)
    rows = []
    for officer, check_in in officers.values():
        distance = None
        if check_in is not None and case.last_seen_lat is not None:
            distance = alerts.distance_m(check_in.lat, check_in.lon, case.last_seen_lat, case.last_seen_lon)
        rows.append({"officer": officer, "check_in": check_in, "distance": distance,
                     "inside": distance is not None and distance <= radius_m})
    return sorted(rows, key=lambda r: (not r["inside"], r["distance"] is None, r["distance"] or 0, r["officer"].name))


# --- photos -------------------------------------------------------------------------------------------

def photo_for(user, kind: str, record_id: int):
    """(attachment, the record it belongs to) of a photo this user's station owns, or (None, None)."""
    if not 0 < record_id <= MAX_ID:
        return None, None
    model = {"case": MissingPersonCase, "sighting": Sighting, "profile": VulnerableProfile}[kind]
    record = db.session.get(model, record_id)
    if record is None or record.station_id != user.station_id or record.photo_id is None:
        return None, None
    if kind == "profile":
        # A profile is shown only to who may see its resident (the profile page is 404 otherwise).
        from blueprints.residents.people import can_see_resident

        if not can_see_resident(user, record.resident):
            return None, None
    return record.photo, record


def local(moment: datetime | None) -> datetime | None:
    return moment.astimezone(LOCAL_TZ) if moment is not None else None


def now_local_input() -> str:
    """Now in Beijing time, as a datetime-local input shows it."""
    return datetime.now(timezone.utc).astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")

