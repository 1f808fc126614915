"""People rules shared by the residents and rentals ledgers: documents, phones, search, scope.

Both blueprints import this module (never each other's routes): validating a document number,
finding or creating a Resident and a standard Address, building the prepared search column, and
the query filter that limits a user to the grids they may see.
"""
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from domain.idcard import InvalidIdNumber, parse
from domain.phone import InvalidPhone, normalise_phone
from domain.pinyin import search_text
from extensions import db
from models import Address, Resident
from models.places import address_search_text
from models.users import CASE, COMMAND, COMMUNITY, LEADER

CHINA_TZ = timezone(timedelta(hours=8))
# Roles that see every grid of the station's ledgers; community officers see their own grids.
LEDGER_STATION_WIDE = (COMMAND, CASE, LEADER)
# Roles that may change the ledgers (the case team reads only).
LEDGER_EDITORS = (COMMUNITY, COMMAND, LEADER)


def today_local():
    """Today's date at the station (China has one time zone, no daylight saving)."""
    return datetime.now(CHINA_TZ).date()


def doc_type_choices():
    return [("resident", _l("Resident ID card")), ("hmt_permit", _l("HK/Macau/Taiwan residence permit")),
            ("foreign_permanent", _l("Foreign permanent residence ID")), ("passport", _l("Passport"))]


def category_choices():
    return [("permanent", _l("Permanent (常住)")), ("floating", _l("Floating (流动)")),
            ("lodging", _l("Lodging (寄住)"))]


def tag_choices():
    return [("elderly_alone", _l("Elderly living alone")), ("wander_risk", _l("Risk of wandering off")),
            ("disability", _l("Disability")), ("left_behind_child", _l("Left-behind child")),
            ("key_person", _l("Key person"))]


def labels(choices) -> dict:
    return {code: label for code, label in choices}


def id_error_message(code: str, doc_type: str) -> str:
    """The precise, translated reason a document number was refused."""
    passport = doc_type == "passport"
    messages = {
        "length": _l("Wrong length: a passport number has 5 to 20 letters or digits.") if passport
        else _l("Wrong length: this number must have 18 characters."),
        "characters": _l("Only letters and digits are allowed.") if passport
        else _l("Only digits are allowed, with X as the last character."),
        "prefix": _l("Wrong prefix: a Hong Kong/Macau/Taiwan permit starts with 81, 82 or 83.")
        if doc_type == "hmt_permit" else _l("Wrong prefix: a foreign permanent residence ID starts with 9."),
        "check": _l("Wrong check character: the last character does not match; the number is mistyped."),
        "birth_date": _l("Impossible birth date in the number."),
    }
    return str(messages.get(code, _l("Not a valid document number.")))


class LedgerError(ValueError):
    """A rule broken by ledger input; `field` names the form field (dotted path for sub-forms)."""

    def __init__(self, field: str, message: str):
        super().__init__(str(message))
        self.field, self.message = field, str(message)


def validate_document(doc_type: str, number: str, field: str = "doc_number"):
    """Parse a document number or raise LedgerError with the precise reason; returns IdInfo."""
    try:
        return parse(number or "", doc_type or "resident")
    except InvalidIdNumber as error:
        raise LedgerError(field, id_error_message(error.code, doc_type)) from None
    except ValueError:
        raise LedgerError(field, _l("Choose a document type.")) from None


def validate_phone(value: str | None, field: str = "phone") -> str | None:
    """E.164 phone or None; LedgerError when given and not a valid number."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return normalise_phone(value)
    except InvalidPhone:
        raise LedgerError(field, _l("Not a valid phone number.")) from None


def resident_search_text(name: str, doc_number: str, phone: str | None) -> str:
    """The prepared search column: ` name pinyin... initials... tail6 tail5 tail4 phone tail4 `.

    Space-separated keys with spaces at both ends, so `LIKE '% key%'` matches the start of any key:
    full pinyin and initials by prefix, a document number by its last 4-6 characters, a phone by its
    national digits or last 4.
    """
    keys = [name.replace(" ", "").lower(), *search_text(name).split()]
    number = doc_number.lower()
    keys += [number[-6:], number[-5:], number[-4:]]
    if phone:
        national = phone[3:] if phone.startswith("+86") else phone.lstrip("+")
        keys += [national, national[-4:]]
    return " " + " ".join(dict.fromkeys(k for k in keys if k)) + " "


def find_resident(station_id: int, doc_type: str, number: str) -> Resident | None:
    return db.session.scalars(select(Resident).where(
        Resident.station_id == station_id, Resident.doc_type == doc_type, Resident.doc_number == number)).first()


def apply_resident(resident: Resident, *, name: str, doc_type: str, info, phone: str | None) -> None:
    """Set the identity fields of a resident and refresh its search column."""
    resident.name = name.strip()
    resident.doc_type = doc_type
    resident.doc_number = info.number
    resident.birth_date, resident.sex = info.birth_date, info.sex
    resident.phone = phone
    resident.search = resident_search_text(resident.name, info.number, phone)


def find_or_create_resident(user, *, name: str, doc_type: str, info, phone: str | None,
                            category: str = "floating", address: Address | None = None) -> tuple[Resident, bool]:
    """The resident with this document, or a new one (not committed); True when created.

    A person already on file keeps their record (a phone given now fills a missing one); this is
    what makes the same tenant in two registrations one person, never a duplicate.
    """
    existing = find_resident(user.station_id, doc_type, info.number)
    if existing is not None:
        if phone and not existing.phone:
            existing.phone = phone
            existing.search = resident_search_text(existing.name, existing.doc_number, phone)
        if address is not None and existing.address_id is None:
            existing.address = address
        return existing, False
    resident = Resident(station_id=user.station_id, category=category, tags=" ", created_by_id=user.id,
                        address=address)
    apply_resident(resident, name=name, doc_type=doc_type, info=info, phone=phone)
    db.session.add(resident)
    return resident, True


def find_or_create_address(station_id: int, *, community: str, street: str, building: str = "",
                           unit: str = "", room: str = "", grid_id: int | None = None,
                           lat: float | None = None, lon: float | None = None) -> Address:
    """The standard address with these parts (reused), or a new one (not committed)."""
    parts = {k: (v or "").strip() for k, v in
             dict(community=community, street=street, building=building, unit=unit, room=room).items()}
    existing = db.session.scalars(select(Address).where(
        Address.station_id == station_id, *[getattr(Address, k) == v for k, v in parts.items()])).first()
    if existing is not None:
        if existing.grid_id is None and grid_id:
            existing.grid_id = grid_id
        if existing.lat is None and lat is not None and lon is not None:
            existing.lat, existing.lon = lat, lon
        return existing
    address = Address(station_id=station_id, grid_id=grid_id, lat=lat, lon=lon,
                      search=address_search_text(*parts.values()), **parts)
    db.session.add(address)
    return address


def sees_station(user) -> bool:
    return user.role in LEDGER_STATION_WIDE


def resident_scope(user, query, *, address_joined: bool = False):
    """Limit a Resident query to what the user may see: own grids (or own entries) for officers.

    `address_joined`: the query already (outer-)joins each resident's Address, whose grid is then
    compared directly; PostgreSQL plans that per matching resident, where the IN-list of the
    grids' addresses below made it read every resident of the station.
    """
    query = query.where(Resident.station_id == user.station_id)
    if sees_station(user):
        return query
    grid_ids = user.grid_ids
    if address_joined:
        return query.where(or_(Address.grid_id.in_(grid_ids), Resident.created_by_id == user.id))
    visible_addresses = select(Address.id).where(Address.grid_id.in_(grid_ids))
    return query.where(or_(Resident.address_id.in_(visible_addresses), Resident.created_by_id == user.id))


def can_see_resident(user, resident: Resident) -> bool:
    if resident.station_id != user.station_id:
        return False
    if sees_station(user):
        return True
    grid_id = resident.address.grid_id if resident.address else None
    return grid_id in user.grid_ids or resident.created_by_id == user.id


def like_escape(text: str) -> str:
    """Escape LIKE wildcards in user input (used with escape='\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def normalise_number(number: str) -> str:
    """A number as stored (full-width to ASCII, no spaces, upper case), without validating it."""
    from domain.idcard import normalise

    return normalise(number or "").upper()


def mask_document(number: str | None) -> str:
    """A document number for display: `140581********1235` (domain.idcard.mask, the house rule)."""
    from domain.idcard import mask

    return mask(number)
