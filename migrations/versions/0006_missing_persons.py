"""Missing persons (走失): vulnerable-person profiles, cases, sightings, case timeline, alert versions.

Revision ID: 0006
Revises: 0007
Create Date: 2026-11-29

"""
import sqlalchemy as sa
from alembic import op

import models.types

revision = "0006"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('missing_alert_states',
    sa.Column('station_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('open_cases', sa.Integer(), nullable=False),
    sa.Column('changed_at', models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_missing_alert_states_station_id_stations')),
    sa.PrimaryKeyConstraint('station_id', name=op.f('pk_missing_alert_states'))
    )
    op.create_table('missing_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('sex', sa.String(length=8), nullable=False),
    sa.Column('age', sa.Integer(), nullable=True),
    sa.Column('height_cm', sa.Integer(), nullable=True),
    sa.Column('clothing', sa.String(length=300), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('photo_id', sa.Integer(), nullable=True),
    sa.Column('risk', sa.String(length=16), nullable=False),
    sa.Column('last_seen_at', models.types.UTCDateTime(), nullable=False),
    sa.Column('last_seen_place', sa.String(length=160), nullable=False),
    sa.Column('last_seen_lat', sa.Float(), nullable=True),
    sa.Column('last_seen_lon', sa.Float(), nullable=True),
    sa.Column('circumstances', sa.Text(), nullable=True),
    sa.Column('reporter_name', sa.String(length=40), nullable=True),
    sa.Column('reporter_phone', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reported_by_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=36), nullable=True),
    sa.Column('via', sa.String(length=8), nullable=False),
    sa.Column('recorded_at', models.types.UTCDateTime(), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.types.UTCDateTime(), nullable=False),
    sa.Column('closed_at', models.types.UTCDateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('found_at', models.types.UTCDateTime(), nullable=True),
    sa.Column('found_place', sa.String(length=160), nullable=True),
    sa.Column('found_lat', sa.Float(), nullable=True),
    sa.Column('found_lon', sa.Float(), nullable=True),
    sa.Column('found_by', sa.String(length=80), nullable=True),
    sa.Column('condition', sa.String(length=12), nullable=True),
    sa.Column('close_note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_missing_cases_closed_by_id_users')),
    sa.ForeignKeyConstraint(['photo_id'], ['attachments.id'], name=op.f('fk_missing_cases_photo_id_attachments')),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_missing_cases_reported_by_id_users')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_missing_cases_resident_id_residents')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_missing_cases_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_missing_cases'))
    )
    with op.batch_alter_table('missing_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_missing_cases_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index('ix_missing_cases_station_closed', ['station_id', 'closed_at'], unique=False)
        batch_op.create_index('ix_missing_cases_station_status', ['station_id', 'status'], unique=False)

    op.create_table('vulnerable_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=True),
    sa.Column('risk', sa.String(length=16), nullable=False),
    sa.Column('height_cm', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('routines', sa.Text(), nullable=True),
    sa.Column('medical_notes', sa.Text(), nullable=True),
    sa.Column('emergency_contacts', sa.Text(), nullable=True),
    sa.Column('places_found', sa.JSON(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['photo_id'], ['attachments.id'], name=op.f('fk_vulnerable_profiles_photo_id_attachments')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_vulnerable_profiles_resident_id_residents')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_vulnerable_profiles_station_id_stations')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_vulnerable_profiles_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vulnerable_profiles')),
    sa.UniqueConstraint('resident_id', name=op.f('uq_vulnerable_profiles_resident_id'))
    )
    with op.batch_alter_table('vulnerable_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vulnerable_profiles_station_id'), ['station_id'], unique=False)

    op.create_table('missing_sightings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('seen_at', models.types.UTCDateTime(), nullable=False),
    sa.Column('place', sa.String(length=160), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('photo_id', sa.Integer(), nullable=True),
    sa.Column('client_id', sa.String(length=36), nullable=True),
    sa.Column('via', sa.String(length=8), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['missing_cases.id'], name=op.f('fk_missing_sightings_case_id_missing_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['photo_id'], ['attachments.id'], name=op.f('fk_missing_sightings_photo_id_attachments')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_missing_sightings_station_id_stations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_missing_sightings_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_missing_sightings'))
    )
    with op.batch_alter_table('missing_sightings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_missing_sightings_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_missing_sightings_station_id'), ['station_id'], unique=False)

    op.create_table('missing_case_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=12), nullable=False),
    sa.Column('sighting_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['missing_cases.id'], name=op.f('fk_missing_case_events_case_id_missing_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sighting_id'], ['missing_sightings.id'], name=op.f('fk_missing_case_events_sighting_id_missing_sightings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_missing_case_events_station_id_stations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_missing_case_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_missing_case_events'))
    )
    with op.batch_alter_table('missing_case_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_missing_case_events_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_missing_case_events_station_id'), ['station_id'], unique=False)



def downgrade():
    with op.batch_alter_table('missing_case_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_missing_case_events_station_id'))
        batch_op.drop_index(batch_op.f('ix_missing_case_events_case_id'))

    op.drop_table('missing_case_events')
    with op.batch_alter_table('missing_sightings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_missing_sightings_station_id'))
        batch_op.drop_index(batch_op.f('ix_missing_sightings_case_id'))

    op.drop_table('missing_sightings')
    with op.batch_alter_table('vulnerable_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vulnerable_profiles_station_id'))

    op.drop_table('vulnerable_profiles')
    with op.batch_alter_table('missing_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_missing_cases_station_status')
        batch_op.drop_index('ix_missing_cases_station_closed')
        batch_op.drop_index(batch_op.f('ix_missing_cases_resident_id'))

    op.drop_table('missing_cases')
    op.drop_table('missing_alert_states')
