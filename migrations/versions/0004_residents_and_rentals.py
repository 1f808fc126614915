"""Residents and rentals ledger: residents, rental households, tenancies, inspections, hazards;
a prepared search column on addresses.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-29 10:59:08.406459

"""
import sqlalchemy as sa
from alembic import op

import models.types


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('residents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('doc_type', sa.String(length=20), nullable=False),
    sa.Column('doc_number', sa.String(length=20), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('sex', sa.String(length=6), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('address_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=12), nullable=False),
    sa.Column('tags', sa.String(length=200), nullable=False),
    sa.Column('notes', sa.String(length=500), nullable=True),
    sa.Column('search', sa.String(length=600), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['address_id'], ['addresses.id'], name=op.f('fk_residents_address_id_addresses')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_residents_created_by_id_users')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_residents_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_residents')),
    sa.UniqueConstraint('station_id', 'doc_type', 'doc_number', name=op.f('uq_residents_station_id_doc_type_doc_number'))
    )
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_residents_address_id'), ['address_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_residents_station_id'), ['station_id'], unique=False)
        batch_op.create_index('ix_residents_station_search', ['station_id', 'search'], unique=False)

    op.create_table('rental_households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('address_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('landlord_id', sa.Integer(), nullable=True),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('rooms', sa.Integer(), nullable=True),
    sa.Column('use', sa.String(length=12), nullable=False),
    sa.Column('lease_start', sa.Date(), nullable=True),
    sa.Column('lease_end', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('client_id', sa.String(length=36), nullable=True),
    sa.Column('registered_on', sa.Date(), nullable=False),
    sa.Column('last_inspected_on', sa.Date(), nullable=True),
    sa.Column('recorded_at', models.types.UTCDateTime(), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['address_id'], ['addresses.id'], name=op.f('fk_rental_households_address_id_addresses')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_rental_households_grid_id_grids')),
    sa.ForeignKeyConstraint(['landlord_id'], ['residents.id'], name=op.f('fk_rental_households_landlord_id_residents')),
    sa.ForeignKeyConstraint(['officer_id'], ['users.id'], name=op.f('fk_rental_households_officer_id_users')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_rental_households_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rental_households'))
    )
    with op.batch_alter_table('rental_households', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rental_households_address_id'), ['address_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rental_households_landlord_id'), ['landlord_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rental_households_officer_id'), ['officer_id'], unique=False)
        batch_op.create_index('ix_rental_households_station_grid', ['station_id', 'grid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rental_households_station_id'), ['station_id'], unique=False)

    op.create_table('inspections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('inspected_on', sa.Date(), nullable=False),
    sa.Column('fire_extinguisher', sa.Boolean(), nullable=False),
    sa.Column('escape_route', sa.Boolean(), nullable=False),
    sa.Column('wiring_ok', sa.Boolean(), nullable=False),
    sa.Column('ebikes_indoors', sa.Boolean(), nullable=False),
    sa.Column('tenants_registered', sa.Boolean(), nullable=False),
    sa.Column('findings', sa.Text(), nullable=True),
    sa.Column('client_id', sa.String(length=36), nullable=True),
    sa.Column('recorded_at', models.types.UTCDateTime(), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['rental_households.id'], name=op.f('fk_inspections_household_id_rental_households')),
    sa.ForeignKeyConstraint(['officer_id'], ['users.id'], name=op.f('fk_inspections_officer_id_users')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_inspections_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspections'))
    )
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspections_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspections_station_id'), ['station_id'], unique=False)

    op.create_table('tenancies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('move_in', sa.Date(), nullable=False),
    sa.Column('move_out', sa.Date(), nullable=True),
    sa.Column('registered_on', sa.Date(), nullable=False),
    sa.Column('registration_delay_days', sa.Integer(), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['rental_households.id'], name=op.f('fk_tenancies_household_id_rental_households')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_tenancies_resident_id_residents')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_tenancies_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenancies'))
    )
    with op.batch_alter_table('tenancies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tenancies_household_id'), ['household_id'], unique=False)
        batch_op.create_index('ix_tenancies_resident_open', ['resident_id', 'move_out'], unique=False)
        batch_op.create_index(batch_op.f('ix_tenancies_station_id'), ['station_id'], unique=False)

    op.create_table('hazards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('resolved_on', sa.Date(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['household_id'], ['rental_households.id'], name=op.f('fk_hazards_household_id_rental_households')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_hazards_inspection_id_inspections')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_hazards_resolved_by_id_users')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_hazards_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hazards'))
    )
    with op.batch_alter_table('hazards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hazards_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hazards_inspection_id'), ['inspection_id'], unique=False)
        batch_op.create_index('ix_hazards_station_open', ['station_id', 'resolved_on', 'due_on'], unique=False)

    with op.batch_alter_table('addresses', schema=None) as batch_op:
        # server_default '' so existing addresses get a value (found by search once edited).
        batch_op.add_column(sa.Column('search', sa.String(length=200), server_default='', nullable=False))



def downgrade():
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.drop_column('search')

    with op.batch_alter_table('hazards', schema=None) as batch_op:
        batch_op.drop_index('ix_hazards_station_open')
        batch_op.drop_index(batch_op.f('ix_hazards_inspection_id'))
        batch_op.drop_index(batch_op.f('ix_hazards_household_id'))

    op.drop_table('hazards')
    with op.batch_alter_table('tenancies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenancies_station_id'))
        batch_op.drop_index('ix_tenancies_resident_open')
        batch_op.drop_index(batch_op.f('ix_tenancies_household_id'))

    op.drop_table('tenancies')
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspections_station_id'))
        batch_op.drop_index(batch_op.f('ix_inspections_household_id'))

    op.drop_table('inspections')
    with op.batch_alter_table('rental_households', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rental_households_station_id'))
        batch_op.drop_index('ix_rental_households_station_grid')
        batch_op.drop_index(batch_op.f('ix_rental_households_officer_id'))
        batch_op.drop_index(batch_op.f('ix_rental_households_landlord_id'))
        batch_op.drop_index(batch_op.f('ix_rental_households_address_id'))

    op.drop_table('rental_households')
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_index('ix_residents_station_search')
        batch_op.drop_index(batch_op.f('ix_residents_station_id'))
        batch_op.drop_index(batch_op.f('ix_residents_address_id'))

    op.drop_table('residents')
