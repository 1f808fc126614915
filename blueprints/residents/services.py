"""The residents ledger's work: create and update, active search, audited reveal."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from blueprints.residents import people
from blueprints.residents.people import LedgerError
from extensions import db
from models import Address, Resident, audit

SEARCH_LIMIT = 30  # a phone screen or two; refine the query for more


class DuplicateResident(LedgerError):
    """The document number is already on file: `existing` is that person."""

    def __init__(self, existing: Resident):
        super().__init__("doc_number", _l("This person is already on file."))
        self.existing = existing


def _address_from(user, data: dict) -> Address | None:
    if not (data.get("community") or "").strip() and not (data.get("street") or "").strip():
        return None
    if not (data.get("community") or "").strip():
        raise LedgerError("community", _l("Enter the community."))
    if not (data.get("street") or "").strip():
        raise LedgerError("street", _l("Enter the street."))
    return people.find_or_create_address(
        user.station_id, community=data["community"], street=data["street"], building=data.get("building"),
        unit=data.get("unit"), room=data.get("room"), grid_id=data.get("grid_id"))


def _apply_form(user, resident: Resident, data: dict, info, phone) -> None:
    people.apply_resident(resident, name=data["name"], doc_type=data["doc_type"], info=info, phone=phone)
    resident.category = data.get("category") or "permanent"
    resident.tags = " " + " ".join(data.get("tags") or []) + " "
    resident.notes = (data.get("notes") or "").strip() or None
    resident.address = _address_from(user, data)


def create_resident(user, data: dict) -> Resident:
    """Add a person; a document number already on file raises DuplicateResident (nothing saved)."""
    info = people.validate_document(data["doc_type"], data["doc_number"])
    phone = people.validate_phone(data.get("phone"))
    existing = people.find_resident(user.station_id, data["doc_type"], info.number)
    if existing is not None:
        raise DuplicateResident(existing)
    resident = Resident(station_id=user.station_id, created_by_id=user.id)
    _apply_form(user, resident, data, info, phone)
    db.session.add(resident)
    try:
        db.session.flush()
    except IntegrityError:  # the same number saved a moment ago by someone else
        db.session.rollback()
        raise DuplicateResident(people.find_resident(user.station_id, data["doc_type"], info.number)) from None
    audit("resident_created", resident)
    db.session.commit()
    return resident


def update_resident(user, resident: Resident, data: dict) -> Resident:
    """Save changes to a person; the number may not become another person's."""
    info = people.validate_document(data["doc_type"], data["doc_number"])
    phone = people.validate_phone(data.get("phone"))
    other = people.find_resident(user.station_id, data["doc_type"], info.number)
    if other is not None and other.id != resident.id:
        raise DuplicateResident(other)
    _apply_form(user, resident, data, info, phone)
    audit("resident_updated", resident)
    db.session.commit()
    return resident


def normalise_query(q: str | None) -> str:
    """What the officer typed, lower-cased, without spaces; full-width letters become ASCII."""
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", q or "").split()).lower()[:40]


def search_residents(user, q: str | None, *, limit: int = SEARCH_LIMIT) -> list[Resident]:
    """Residents the user may see matching `q`, by name, pinyin, initials, number tail, phone, address.

    One query whatever the data size: prepared columns matched with LIKE (`' key%'` on the start of
    any search key), the address joined in the same statement. The matches are a UNION ALL of id
    lists, each read from a narrow index or table (the (station, search) index, the addresses'
    search column, the name), instead of an OR that joins every resident to its address first.
    """
    term = normalise_query(q)
    query = select(Resident).outerjoin(Resident.address).options(contains_eager(Resident.address))
    query = people.resident_scope(user, query)
    if term:
        escaped = people.like_escape(term)
        matching_addresses = select(Address.id).where(Address.search.like(f"%{escaped}%", escape="\\"))
        parts = [select(Resident.id).where(Resident.station_id == user.station_id,
                                           Resident.search.like(f"% {escaped}%", escape="\\")),
                 select(Resident.id).where(Resident.address_id.in_(matching_addresses))]
        if not term.isascii():
            parts.append(select(Resident.id).where(Resident.station_id == user.station_id,
                                                   Resident.name.like(f"%{escaped}%", escape="\\")))
        query = query.where(Resident.id.in_(union_all(*parts))).order_by(Resident.name, Resident.id)
    else:
        query = query.order_by(Resident.created_at.desc(), Resident.id.desc())
    return list(db.session.scalars(query.limit(limit)))


def reveal_id_number(user, resident: Resident, reason: str) -> str:
    """The full document number, after writing the reveal and its reason to the audit log."""
    audit("reveal_id", resident, user=user, reason=reason.strip())
    db.session.commit()
    return resident.doc_number
