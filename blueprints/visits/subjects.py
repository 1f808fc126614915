"""Who or what is visited: a resident, a rental household or a place — finding, checking, naming them.

The residents' and rentals' own rules decide who may see what (people.can_see_resident,
rentals.services.can_see_household, ledger.household_scope); this module only adds places, which
are new here, and the active search across the three.
"""
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager, joinedload

from blueprints.rentals import ledger
from blueprints.rentals.services import can_see_household
from blueprints.residents import people
from blueprints.residents import services as resident_services
from domain.pinyin import search_text
from extensions import db
from models import Address, Place, RentalHousehold, Resident
from models.users import COMMUNITY

SEARCH_LIMIT = 20  # one phone screen; refine the query for more


@dataclass
class Subject:
    """A checked subject of a visit: its type, the record, its grid and a label to show."""

    type: str
    record: object
    grid_id: int | None

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def label(self) -> str:
        return subject_label(self.type, self.record)


class SubjectError(ValueError):
    """A subject that may not be visited by this user: `field` names the form field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def subject_label(subject_type: str, record) -> str:
    """What the officer reads: a resident's name, a household's address, a place's name."""
    if record is None:
        return "—"
    if subject_type == "resident":
        return record.name
    if subject_type == "household":
        return record.address.label if record.address else f"#{record.id}"
    return record.name


PLACE_SEARCH_MAX = 400  # the column's length (models.visits.Place.search)


def place_search_text(name: str, address: str = "", contact: str | None = "") -> str:
    """The prepared search column of a place: ` name address contact pinyin... initials... `.

    Pinyin keys come last, likeliest reading first, so when a long name's many readings would
    overflow the column only the unlikeliest readings are dropped (a whole key at a time).
    """
    keys = [name.replace(" ", "").lower(), (address or "").replace(" ", "").lower(),
            "".join(ch for ch in (contact or "") if ch.isdigit()), *search_text(name).split()]
    text = " "
    for key in dict.fromkeys(k for k in keys if k):
        if len(text) + len(key) + 1 > PLACE_SEARCH_MAX:
            break
        text += key + " "
    return text


def can_see_place(user, place: Place | None) -> bool:
    """Officers see their grids' places and those they entered; station-wide roles every place."""
    if place is None or place.station_id != user.station_id:
        return False
    return people.sees_station(user) or place.grid_id in user.grid_ids or place.created_by_id == user.id


def place_scope(user, query):
    query = query.where(Place.station_id == user.station_id)
    if people.sees_station(user):
        return query
    return query.where(or_(Place.grid_id.in_(user.grid_ids or [-1]), Place.created_by_id == user.id))


def _grid_of_resident(resident: Resident) -> int | None:
    return resident.address.grid_id if resident.address else None


def resolve(user, subject_type: str, subject_id: int) -> Subject:
    """The subject this user may visit, or SubjectError with a message for the `subject_id` field.

    Another station's record answers "not found" (as if it did not exist); a record of the station
    outside a community officer's grids says so plainly.
    """
    model = {"resident": Resident, "household": RentalHousehold, "place": Place}.get(subject_type)
    if model is None:
        raise SubjectError("subject_type", _("Choose a resident, a rental household or a place."))
    # A resident's grid is their address's: both in one statement.
    record = db.session.get(model, subject_id, options=[joinedload(Resident.address)] if model is Resident else ())
    if record is None or record.station_id != user.station_id:
        raise SubjectError("subject_id", {
            "resident": _("No such resident in your station."),
            "household": _("No such rental household in your station."),
            "place": _("No such place in your station.")}[subject_type])
    if subject_type == "resident":
        allowed, grid_id = people.can_see_resident(user, record), _grid_of_resident(record)
    elif subject_type == "household":
        allowed, grid_id = can_see_household(user, record), record.grid_id
    else:
        allowed, grid_id = can_see_place(user, record), record.grid_id
    if not allowed:
        raise SubjectError("subject_id", _("This is outside your grids: you may only visit in your own grids."))
    return Subject(subject_type, record, grid_id)


def visible(user, subject_type: str, subject_id: int) -> Subject | None:
    """The subject when this user may see it (for history pages), else None."""
    try:
        return resolve(user, subject_type, subject_id)
    except SubjectError:
        return None


def new_place(user, form, position) -> Place:
    """A place entered on the spot (not committed): in the officer's first grid, at the officer's position."""
    name = form.place_name.data.strip()
    grid_id = user.grid_ids[0] if user.role == COMMUNITY and user.grid_ids else None
    lat, lon = position or (None, None)
    place = Place(station_id=user.station_id, grid_id=grid_id, name=name, type=form.place_type.data,
                  address=(form.place_address.data or "").strip(), contact=(form.place_contact.data or "").strip()
                  or None, lat=lat, lon=lon, created_by_id=user.id,
                  search=place_search_text(name, form.place_address.data, form.place_contact.data))
    db.session.add(place)
    return place


# --- active search ------------------------------------------------------------------------------------

def search(user, subject_type: str, q: str) -> list[Subject]:
    """Subjects of one type matching `q` that the user may visit: one query each."""
    if subject_type == "household":
        return _search_households(user, q)
    if subject_type == "place":
        return _search_places(user, q)
    return [Subject("resident", r, _grid_of_resident(r))
            for r in resident_services.search_residents(user, q, limit=SEARCH_LIMIT)]


def _search_households(user, q: str) -> list[Subject]:
    term = people.like_escape(resident_services.normalise_query(q))
    query = (select(RentalHousehold).join(RentalHousehold.address).outerjoin(RentalHousehold.landlord)
             .options(contains_eager(RentalHousehold.address), contains_eager(RentalHousehold.landlord)))
    query = ledger.household_scope(user, query)
    if term:
        query = query.where(or_(Address.search.like(f"%{term}%", escape="\\"),
                                Resident.search.like(f"% {term}%", escape="\\")))
    rows = db.session.scalars(query.order_by(Address.community, Address.street, RentalHousehold.id)
                              .limit(SEARCH_LIMIT))
    return [Subject("household", h, h.grid_id) for h in rows]


def _search_places(user, q: str) -> list[Subject]:
    term = people.like_escape(resident_services.normalise_query(q))
    query = place_scope(user, select(Place).options(joinedload(Place.grid)))
    if term:
        conditions = [Place.search.like(f"% {term}%", escape="\\")]
        if not term.isascii():  # a Chinese fragment may sit inside a name or an address
            conditions.append(Place.search.like(f"%{term}%", escape="\\"))
        query = query.where(or_(*conditions))
    rows = db.session.scalars(query.order_by(Place.name, Place.id).limit(SEARCH_LIMIT))
    return [Subject("place", p, p.grid_id) for p in rows]
