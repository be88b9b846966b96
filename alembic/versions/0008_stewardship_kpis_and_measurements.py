"""stewardship: KPIs and measurements

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 21:16:15.704984

A KPI belongs to a service (name, unit, kind, direction, target, warning and breach
thresholds, an optional measurement source); a measurement is one exact value of a KPI
for a month or an instant.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op



revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('kpi',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.Enum('MEASURED', 'COST_PER_UNIT', 'COST_RECOVERY_RATE', 'BUDGET_VARIANCE', 'ACTIVE_CUSTOMERS', 'USAGE_VOLUME', name='kpikind', native_enum=False, length=32), nullable=False),
    sa.Column('direction', sa.Enum('HIGHER_IS_BETTER', 'LOWER_IS_BETTER', name='kpidirection', native_enum=False, length=32), nullable=False),
    sa.Column('target', sa.BigInteger(), nullable=False),
    sa.Column('warning_threshold', sa.BigInteger(), nullable=False),
    sa.Column('breach_threshold', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=True),
    sa.Column('source_query', sa.Text(), nullable=False),
    sa.Column('source_settings', sa.JSON(), nullable=False),
    sa.Column('pull_error', sa.Text(), nullable=True),
    sa.Column('pulled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_kpi_created_by_id_person')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_kpi_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_kpi_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi')),
    sa.UniqueConstraint('service_id', 'name', name=op.f('uq_kpi_service_id_name'))
    )
    with op.batch_alter_table('kpi', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kpi_service_id'), ['service_id'], unique=False)

    op.create_table('measurement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('kpi_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpi.id'], name=op.f('fk_measurement_kpi_id_kpi'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_measurement_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['person.id'], name=op.f('fk_measurement_recorded_by_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measurement')),
    sa.UniqueConstraint('kpi_id', 'at', name=op.f('uq_measurement_kpi_id_at'))
    )
    with op.batch_alter_table('measurement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measurement_organisation_id'), ['organisation_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('measurement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measurement_organisation_id'))

    op.drop_table('measurement')
    with op.batch_alter_table('kpi', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_service_id'))
        batch_op.drop_index(batch_op.f('ix_kpi_organisation_id'))

    op.drop_table('kpi')
