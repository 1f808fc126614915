"""The rentals ledger on the command room's screen and in its analysis: registrations, inspections,
households whose inspection is overdue (the ledger's own rules, blueprints/rentals/ledger.py)."""
from operator import itemgetter

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import Date, Integer, String, and_, bindparam, case, func, literal_column, select, union_all

from blueprints.command.sources import (Column, Count, FeedItem, Layer, Source, add_hours, day_text, feed_columns,
                                        feed_member, fetch, fetch_tuples, joined, memoized, micro, register,
                                        tally, utc_hour)
from blueprints.rentals import ledger
from blueprints.residents import people
from models import Address, Grid, Inspection, RentalHousehold, Tenancy, User
from models.types import UTCDateTime

H = RentalHousehold
LAYER_LIMIT = 500


def version(today):
    station = today.user.station_id
    return [select(func.max(H.id)).where(H.station_id == station).scalar_subquery(),
            select(func.max(Inspection.id)).where(Inspection.station_id == station).scalar_subquery(),
            select(func.max(Tenancy.id)).where(Tenancy.station_id == station).scalar_subquery()]


def tallies(today):
    """Per grid: households registered today and overdue now (one pass over the households, the
    ledger's own overdue rule, the ledger's grids), and today's inspections."""
    station, day, rules = today.user.station_id, today.day, ledger.Rules.from_config()
    grid_ids = None if people.sees_station(today.user) else tuple(today.user.grid_ids)
    return memoized(("rentals", station, day, rules, grid_ids), lambda: _tallies(station, day, rules, grid_ids))


def _tallies(station, day, rules, grid_ids):
    overdue = ledger._flags(day, rules)["inspection_overdue"]
    grids = select(Grid.id).where(Grid.station_id == station)
    if grid_ids is not None:
        grids = grids.where(Grid.id.in_(grid_ids))
    return [
        select(*tally("rentals.households", H.grid_id, None, func.sum(case((H.registered_on == day, 1), else_=0)),
                      func.sum(case((and_(overdue, H.grid_id.in_(grids.scalar_subquery())), 1), else_=0))))
        .where(H.station_id == station).group_by(H.grid_id),
        select(*tally("rentals.inspections", H.grid_id, None, func.count(Inspection.id)))
        .join(H, H.id == Inspection.household_id)
        .where(Inspection.station_id == station, Inspection.inspected_on == day).group_by(H.grid_id),
    ]


def fold(today, rows):
    """Counts (registrations, inspections) and the per-grid columns, from the tally rows."""
    registered, overdue, inspected = {}, {}, {}
    for grid_id, _k, n_registered, n_overdue, _zero in rows.get("rentals.households", ()):
        if n_registered:
            registered[grid_id] = int(n_registered)
        if n_overdue:
            overdue[grid_id] = int(n_overdue)
    for grid_id, _k, n, *_rest in rows.get("rentals.inspections", ()):
        inspected[grid_id] = int(n)
    index = url_for("rentals.index")
    counts = [Count("registrations", _("Rental registrations"), sum(registered.values()), 30, index),
              Count("inspections", _("Inspections"), sum(inspected.values()), 40, index)]
    columns = [Column("registrations", _("Registrations"), registered, order=30),
               Column("inspections", _("Inspections"), inspected, order=40),
               Column("inspection_overdue", _("Inspection overdue"), overdue, order=45, better="down")]
    return counts, columns


def layers(today):
    """Households whose inspection is overdue, at their address's position."""
    # The ledger's own rule expression (not a copy), so the map and the ledger agree. The database
    # writes each label ("address · last inspected <day>" or "... · never inspected"), given the
    # translated words as parameters: one string per row, no formatting here.
    station, day, rules = today.user.station_id, today.day, ledger.Rules.from_config()
    rows = fetch_tuples(memoized(("rentals.layer", station, day, rules), _layer_statement(station, day, rules)),
                        _layer_words())
    prefix = url_for("rentals.show", household_id=1)[:-1]  # once, not url_for per marker
    return [Layer("rentals_overdue", _("Rentals with overdue inspection"), "#6a1b9a", today.markers(rows), 40,
                  url=prefix)]


def _layer_statement(station, day, rules):
    def build():
        words = {name: bindparam(f"rentals_{name}", type_=String) for name in ("never", "before", "after")}
        last = case((H.last_inspected_on.is_(None), words["never"]),
                    else_=words["before"] + day_text(H.last_inspected_on) + words["after"])
        return (select(micro(Address.lat), micro(Address.lon), _address() + " · " + last, literal_column("1"), H.id)
                .join(Address, Address.id == H.address_id)
                .where(H.station_id == station, ledger._flags(day, rules)["inspection_overdue"],
                       Address.lat.is_not(None))
                .order_by(H.id).limit(LAYER_LIMIT))
    return build


def _layer_words() -> dict:
    """The translated words around the last inspection's day ("last inspected %(day)s" split at the
    day), and "never inspected"."""
    before, _day, after = (_("last inspected %(day)s") % {"day": "\0"}).partition("\0")
    return {"rentals_never": _("never inspected"), "rentals_before": before, "rentals_after": after}


def feed_union(today, limit):
    """Households registered and inspections recorded, newest ids first, as members of the screen's feed
    (feed_fold keeps those since the start of the day)."""
    station = today.user.station_id
    # Newest ids first and the day cut in feed_fold: ids grow with the time of arrival, and the primary
    # key walk stops after `limit` rows (created_at has no index). Not the device's recorded time (the
    # screen does not show it).
    return [memoized(("rentals.feed", station, limit), lambda: feed_member(
                select(*feed_columns("rentals", H.created_at, H.id, H.id, t1=_address()))
                .join(Address, Address.id == H.address_id).where(H.station_id == station)
                .order_by(H.id.desc()).limit(limit))),
            memoized(("rentals.inspection_feed", station, limit), lambda: feed_member(
                select(*feed_columns("rentals.inspections", Inspection.created_at, Inspection.id,
                                     Inspection.household_id, who=User.name, t1=_address()))
                .join(H, H.id == Inspection.household_id).join(Address, Address.id == H.address_id)
                .outerjoin(User, User.id == Inspection.officer_id)
                .where(Inspection.station_id == station).order_by(Inspection.id.desc()).limit(limit)))]


def _address():
    """The address as one text, its non-empty parts joined by spaces (as Address.label)."""
    return joined(Address.community, Address.street, Address.building, Address.unit, Address.room)


def feed_fold(today, rows):
    """The registrations' and inspections' feed lines since the start of the day, newest first."""
    prefix = url_for("rentals.show", household_id=1)[:-1]
    rental, registered = _("Rental"), _("Registered %(address)s")
    inspection, inspected = _("Inspection"), _("Inspected %(address)s")
    items = []
    for created_at, _seq, household_id, _via, _flag, _who, address, _t2 in _newest(rows.get("rentals", ())):
        if created_at < today.start:
            break
        items.append(FeedItem(created_at, rental, registered % {"address": address}, url=f"{prefix}{household_id}"))
    for created_at, _seq, household_id, _via, _flag, officer, address, _t2 in _newest(
            rows.get("rentals.inspections", ())):
        if created_at < today.start:
            break
        items.append(FeedItem(created_at, inspection, inspected % {"address": address}, officer or "",
                              f"{prefix}{household_id}"))
    return items


def _newest(rows) -> list:
    """A feed member's rows by their sequence (the id), highest first."""
    return sorted(rows, key=itemgetter(1), reverse=True)


def measures(period):
    """Per grid over the period: households registered, tenants registered (and late), inspections."""
    return compare(period, period)[0]


def compare(period, previous):
    """Both periods' measures (previous..period.end, grouped by which period a row is in): one
    statement, built once with bind parameters and run without the ORM's result layer (building the
    three selects and their cache keys per request cost several times what SQLite takes to run them)."""
    rules = ledger.Rules.from_config()
    households, tenants, on_time, inspections = [{}, {}], [{}, {}], [{}, {}], [{}, {}]
    for tag, later, grid_id, n, n_on_time in fetch(memoized(("rentals.compare",), _compare_statement), {
            "station": period.user.station_id, "first": previous.start, "split": period.start, "end": period.end,
            "registration_days": rules.registration_days}):
        if tag == "h":
            households[later][grid_id] = n
        elif tag == "t":
            tenants[later][grid_id], on_time[later][grid_id] = n, int(n_on_time or 0)
        else:
            inspections[later][grid_id] = n
    return tuple([Column("registrations", _("Rentals registered"), households[now], order=30, better="up"),
                  Column("tenants_on_time", _("Tenants registered on time"), on_time[now], of=tenants[now],
                         order=31, better="up"),
                  Column("inspections", _("Inspections"), inspections[now], order=32, better="up")]
                 for now in (1, 0))


def _compare_statement():
    """Per grid and period (1: the later one, from `split`), as (tag, later, grid, n, n2) rows of one
    UNION ALL: households registered ("h"), tenants registered and on time ("t"), inspections ("i")."""
    station, first, split, end = (bindparam("station", type_=Integer), bindparam("first", type_=Date),
                                  bindparam("split", type_=Date), bindparam("end", type_=Date))

    def later(column):
        return case((column >= split, 1), else_=0)

    # Each "which period" expression is one object in SELECT and GROUP BY: PostgreSQL matches them by
    # their parameters too.
    which = later(H.registered_on)
    households = (select(literal_column("'h'"), which, H.grid_id, func.count(H.id), literal_column("0"))
                  .where(H.station_id == station, H.registered_on >= first, H.registered_on <= end)
                  .group_by(which, H.grid_id))
    which = later(Tenancy.registered_on)
    on_time = case((Tenancy.registration_delay_days > bindparam("registration_days", type_=Integer), 0), else_=1)
    tenants = (select(literal_column("'t'"), which, H.grid_id, func.count(Tenancy.id), func.sum(on_time))
               .join(H, H.id == Tenancy.household_id)
               .where(Tenancy.station_id == station, Tenancy.registered_on >= first, Tenancy.registered_on <= end)
               .group_by(which, H.grid_id))
    which = later(Inspection.inspected_on)
    inspections = (select(literal_column("'i'"), which, H.grid_id, func.count(Inspection.id), literal_column("0"))
                   .join(H, H.id == Inspection.household_id)
                   .where(Inspection.station_id == station, Inspection.inspected_on >= first,
                          Inspection.inspected_on <= end)
                   .group_by(which, H.grid_id))
    return union_all(households, tenants, inspections)


def snapshot(today):
    """The ledger's compliance per grid as it stands today (not compared: the ledger keeps no history)."""
    report = ledger.grid_report(today.user, today.day)
    return [Column(name, label, {r["id"]: r[name] for r in report}, order=40 + n, better="down")
            for n, (name, label) in enumerate(ledger.flag_labels().items())]


def hours(period):
    """Registrations and inspections by local weekday and hour (of the device's recorded time)."""
    def build():
        station, start, end = (bindparam("station", type_=Integer), bindparam("start", type_=UTCDateTime),
                               bindparam("end", type_=UTCDateTime))
        return union_all(*(select(utc_hour(model.recorded_at), func.count())
                           .where(model.station_id == station, model.recorded_at >= start, model.recorded_at < end)
                           .group_by(utc_hour(model.recorded_at)) for model in (H, Inspection)))
    rows = fetch(memoized(("rentals.hours",), build),
               {"station": period.user.station_id, "start": period.start_utc, "end": period.end_utc})
    return add_hours({}, rows)


register(Source("rentals", version=version, tallies=tallies, fold=fold, layers=layers, feed_union=feed_union,
                feed_fold=feed_fold, measures=measures, compare=compare, snapshot=snapshot, hours=hours))
