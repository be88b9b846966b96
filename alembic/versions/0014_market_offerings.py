"""market: market spaces, segments in them, customer needs, service offerings with
service levels and a price list, subscriptions

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 15:18:28.397939

A segment now belongs to a market space. Segments written before (none through the
API) are put in a space named "General" of their organisation.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import spm_api.models.columns

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('market_space',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_market_space_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_market_space')),
    sa.UniqueConstraint('organisation_id', 'name', name=op.f('uq_market_space_organisation_id_name'))
    )
    with op.batch_alter_table('market_space', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_market_space_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('service_offering',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('charging_model', sa.String(length=100), nullable=True),
    sa.Column('charging_parameters', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_service_offering_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['segment_id'], ['market_segment.id'], name=op.f('fk_service_offering_segment_id_market_segment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_offering')),
    sa.UniqueConstraint('organisation_id', 'name', name=op.f('uq_service_offering_organisation_id_name'))
    )
    with op.batch_alter_table('service_offering', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_offering_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_offering_segment_id'), ['segment_id'], unique=False)

    op.create_table('customer_need',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('importance', sa.Integer(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(segment_id IS NULL) <> (customer_id IS NULL)', name=op.f('ck_customer_need_one_holder')),
    sa.CheckConstraint('importance BETWEEN 1 AND 5', name=op.f('ck_customer_need_importance_range')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_customer_need_customer_id_customer')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_customer_need_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['person.id'], name=op.f('fk_customer_need_recorded_by_id_person')),
    sa.ForeignKeyConstraint(['segment_id'], ['market_segment.id'], name=op.f('fk_customer_need_segment_id_market_segment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_need'))
    )
    with op.batch_alter_table('customer_need', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_need_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_need_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_need_segment_id'), ['segment_id'], unique=False)

    op.create_table('offering_service',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['offering_id'], ['service_offering.id'], name=op.f('fk_offering_service_offering_id_service_offering')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_offering_service_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_offering_service_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offering_service')),
    sa.UniqueConstraint('offering_id', 'service_id', name=op.f('uq_offering_service_offering_id_service_id'))
    )
    with op.batch_alter_table('offering_service', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offering_service_offering_id'), ['offering_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offering_service_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offering_service_service_id'), ['service_id'], unique=False)

    op.create_table('service_level',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('kpi_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('target', spm_api.models.columns.FixedDecimal(), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpi.id'], name=op.f('fk_service_level_kpi_id_kpi')),
    sa.ForeignKeyConstraint(['offering_id'], ['service_offering.id'], name=op.f('fk_service_level_offering_id_service_offering')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_service_level_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_service_level_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_level')),
    sa.UniqueConstraint('offering_id', 'service_id', 'name', name=op.f('uq_service_level_offering_id_service_id_name'))
    )
    with op.batch_alter_table('service_level', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_level_kpi_id'), ['kpi_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_level_offering_id'), ['offering_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_level_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_level_service_id'), ['service_id'], unique=False)

    op.create_table('subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('start_period', sa.String(length=7), nullable=False),
    sa.Column('end_period', sa.String(length=7), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_subscription_created_by_id_person')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_subscription_customer_id_customer')),
    sa.ForeignKeyConstraint(['offering_id'], ['service_offering.id'], name=op.f('fk_subscription_offering_id_service_offering')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_subscription_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription'))
    )
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscription_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscription_offering_id'), ['offering_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscription_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('need_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('offering_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(service_id IS NULL) <> (offering_id IS NULL)', name=op.f('ck_need_link_one_target')),
    sa.ForeignKeyConstraint(['need_id'], ['customer_need.id'], name=op.f('fk_need_link_need_id_customer_need')),
    sa.ForeignKeyConstraint(['offering_id'], ['service_offering.id'], name=op.f('fk_need_link_offering_id_service_offering')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_need_link_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_need_link_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_need_link')),
    sa.UniqueConstraint('need_id', 'service_id', 'offering_id', name=op.f('uq_need_link_need_id_service_id_offering_id'))
    )
    with op.batch_alter_table('need_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_need_link_need_id'), ['need_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_need_link_offering_id'), ['offering_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_need_link_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_need_link_service_id'), ['service_id'], unique=False)

    with op.batch_alter_table('market_segment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('market_space_id', sa.Integer(), nullable=True))
    op.execute("INSERT INTO market_space (organisation_id, name, description) "
               "SELECT DISTINCT organisation_id, 'General', '' FROM market_segment")
    op.execute("UPDATE market_segment SET market_space_id = (SELECT market_space.id "
               "FROM market_space WHERE market_space.organisation_id = "
               "market_segment.organisation_id AND market_space.name = 'General')")
    with op.batch_alter_table('market_segment', schema=None) as batch_op:
        batch_op.alter_column('market_space_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_market_segment_market_space_id'), ['market_space_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_market_segment_market_space_id_market_space'), 'market_space', ['market_space_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('market_segment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_market_segment_market_space_id_market_space'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_market_segment_market_space_id'))
        batch_op.drop_column('market_space_id')

    with op.batch_alter_table('need_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_need_link_service_id'))
        batch_op.drop_index(batch_op.f('ix_need_link_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_need_link_offering_id'))
        batch_op.drop_index(batch_op.f('ix_need_link_need_id'))

    op.drop_table('need_link')
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscription_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_subscription_offering_id'))
        batch_op.drop_index(batch_op.f('ix_subscription_customer_id'))

    op.drop_table('subscription')
    with op.batch_alter_table('service_level', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_level_service_id'))
        batch_op.drop_index(batch_op.f('ix_service_level_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_service_level_offering_id'))
        batch_op.drop_index(batch_op.f('ix_service_level_kpi_id'))

    op.drop_table('service_level')
    with op.batch_alter_table('offering_service', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offering_service_service_id'))
        batch_op.drop_index(batch_op.f('ix_offering_service_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_offering_service_offering_id'))

    op.drop_table('offering_service')
    with op.batch_alter_table('customer_need', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_need_segment_id'))
        batch_op.drop_index(batch_op.f('ix_customer_need_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_customer_need_customer_id'))

    op.drop_table('customer_need')
    with op.batch_alter_table('service_offering', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_offering_segment_id'))
        batch_op.drop_index(batch_op.f('ix_service_offering_organisation_id'))

    op.drop_table('service_offering')
    with op.batch_alter_table('market_space', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_market_space_organisation_id'))

    op.drop_table('market_space')
