"""Every table Pingan keeps on write from other tables, and how to recount them all.

The pages read these instead of counting the source rows on every request (bench/README.md says
which page needs which). ORM writes keep them right through model events (see each model); Core
INSERTs skip those events, so the demo seeders recount a station at the end, and so does
`flask summaries rebuild` — for an operator after hand-written SQL, or to check a suspicion:
`--check` recounts into a rolled-back transaction and reports which tables differed.

| table (model)                          | kept from                             | read by                     |
|----------------------------------------|---------------------------------------|-----------------------------|
| patrol_day_totals (PatrolDayTotal)     | check_ins                             | /patrol/report, analysis    |
| rental_households' summary columns     | tenancies, hazards                    | /rentals/, compliance       |
| resident_visit_states, visit_day_totals| visits                                | /visits/plan, coverage      |
| household_visit_states (HouseholdVisitState) | visits                          | /visits/coverage            |
| visit_candidates (VisitCandidate)      | residents, addresses, tenancies       | /visits/plan, coverage      |
| resident_search_keys, address_search_keys | residents.search / name, addresses.search | /residents/?q=     |
"""
from sqlalchemy import delete, insert, select

from models.patrols import PatrolDayTotal, rebuild_day_totals
from models.people import Resident, ResidentSearchKey, resident_key_rows
from models.places import Address, AddressSearchKey, address_key_rows
from models.rentals import RentalHousehold, rebuild_household_summaries
from models.visits import HouseholdVisitState, ResidentVisitState, VisitCandidate, VisitDayTotal, \
    rebuild_candidates, rebuild_summaries

KEY_BATCH = 5000  # rows per INSERT of search keys


def _rebuild_search_keys(connection, station_id: int) -> None:
    """A station's resident and address search keys, from the stored search columns."""
    for key_table, source, rows_of in (
            (ResidentSearchKey.__table__, select(Resident.id, Resident.name, Resident.search),
             lambda row: resident_key_rows(row.id, station_id, row.name, row.search)),
            (AddressSearchKey.__table__, select(Address.id, Address.search),
             lambda row: address_key_rows(row.id, station_id, row.search))):
        connection.execute(delete(key_table).where(key_table.c.station_id == station_id))
        model = Resident if "name" in source.selected_columns else Address
        batch = []
        for row in connection.execute(source.where(model.station_id == station_id)):
            batch.extend(rows_of(row))
            if len(batch) >= KEY_BATCH:
                connection.execute(insert(key_table), batch)
                batch = []
        if batch:
            connection.execute(insert(key_table), batch)


# In dependency order: the visit candidates read residents and tenancies only, the rest one source each.
REBUILDERS = (
    ("patrol_day_totals", rebuild_day_totals),
    ("rental_household_summaries", rebuild_household_summaries),
    ("visit_states_and_day_totals", rebuild_summaries),
    ("visit_candidates", rebuild_candidates),
    ("search_keys", _rebuild_search_keys),
)

# What --check compares, per rebuilder: each table's rows, sorted.
SNAPSHOTS = {
    "patrol_day_totals": (PatrolDayTotal.__table__,),
    "rental_household_summaries": (RentalHousehold.__table__,),
    "visit_states_and_day_totals": (ResidentVisitState.__table__, VisitDayTotal.__table__,
                                    HouseholdVisitState.__table__),
    "visit_candidates": (VisitCandidate.__table__,),
    "search_keys": (ResidentSearchKey.__table__, AddressSearchKey.__table__),
}


def snapshot(connection, name: str, station_id: int) -> list:
    """The rows a rebuilder owns for one station, sorted (to compare before and after)."""
    rows = []
    for table in SNAPSHOTS[name]:
        rows.append(sorted(tuple(row) for row in connection.execute(
            select(table).where(table.c.station_id == station_id))))
    return rows


def rebuild(connection, station_id: int) -> dict[str, bool]:
    """Recount every kept-on-write table of a station; per table, whether it had to change."""
    changed = {}
    for name, rebuilder in REBUILDERS:
        before = snapshot(connection, name, station_id)
        rebuilder(connection, station_id)
        changed[name] = snapshot(connection, name, station_id) != before
    return changed
