"""The residents ledger's work: create and update, active search, audited reveal."""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from blueprints.residents import people
from blueprints.residents.people import LedgerError
from extensions import db
from models import Address, Resident, audit
from models.people import NAME_SUFFIX, SEARCH_KEY, ResidentSearchKey
from models.places import KEY_LENGTH, AddressSearchKey, prefix_range

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

    # At most KEY_LENGTH characters: the search-key tables keep that much of each key.
    return "".join(unicodedata.normalize("NFKC", q or "").split()).lower()[:KEY_LENGTH]


def _search(user, query, term: str):
    """`query` (over residents, addresses outer-joined) limited to what the user may see and to the
    matches of `term`, ordered: by name when searching, newest first otherwise.

    A term matches the start of any key of a resident's search column (full pinyin, initials, the
    name, number tails, phone), anywhere in the name when it is Chinese, or anywhere in the
    address: each is one prefix range on a search-key table's primary key (ResidentSearchKey: keys
    and name suffixes; AddressSearchKey: address suffixes), gathered as a UNION ALL of ids, instead
    of a LIKE over every resident and address of the station.
    """
    query = people.resident_scope(user, query, address_joined=True)
    if not term:
        return query.order_by(Resident.created_at.desc(), Resident.id.desc())
    keys, address_keys = ResidentSearchKey, AddressSearchKey
    # A Chinese term matches the name anywhere (its suffixes); every other key is ASCII.
    field = SEARCH_KEY if term.isascii() else NAME_SUFFIX
    by_key = select(keys.resident_id).where(keys.station_id == user.station_id, keys.field == field,
                                            prefix_range(keys.key, term))
    by_address = select(Resident.id).where(Resident.address_id.in_(
        select(address_keys.address_id).where(address_keys.station_id == user.station_id,
                                              prefix_range(address_keys.key, term))))
    return query.where(Resident.id.in_(union_all(by_key, by_address))).order_by(Resident.name, Resident.id)


def search_residents(user, q: str | None, *, limit: int = SEARCH_LIMIT) -> list[Resident]:
    """Residents the user may see matching `q`, by name, pinyin, initials, number tail, phone, address
    (see _search), with their address: one statement whatever the data size."""
    query = select(Resident).outerjoin(Resident.address).options(contains_eager(Resident.address))
    return list(db.session.scalars(_search(user, query, normalise_query(q)).limit(limit)))


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One line of the residents search: the columns the list shows, not a whole Resident."""

    id: int
    name: str
    tags: str
    doc_number: str
    phone: str | None
    category: str
    address_label: str | None

    @property
    def tag_list(self) -> list[str]:
        return (self.tags or "").split()


_ADDRESS_PARTS = (Address.community, Address.street, Address.building, Address.unit, Address.room)


def search_rows(user, q: str | None, *, limit: int = SEARCH_LIMIT) -> list[ResultRow]:
    """The residents search page's lines: search_residents' matches, read as plain columns."""
    query = (select(Resident.id, Resident.name, Resident.tags, Resident.doc_number, Resident.phone,
                    Resident.category, Address.id.label("address_id"), *_ADDRESS_PARTS)
             .outerjoin(Resident.address))
    rows = db.session.execute(_search(user, query, normalise_query(q)).limit(limit))
    # The label as Address.label builds it: the parts that are set, separated by spaces.
    return [ResultRow(row[0], row[1], row[2], row[3], row[4], row[5],
                      " ".join(part for part in row[7:] if part) if row[6] is not None else None)
            for row in rows]


def reveal_id_number(user, resident: Resident, reason: str) -> str:
    """The full document number, after writing the reveal and its reason to the audit log."""
    audit("reveal_id", resident, user=user, reason=reason.strip())
    db.session.commit()
    return resident.doc_number
