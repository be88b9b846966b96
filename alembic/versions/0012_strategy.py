"""service strategy: business cases, realised benefits, risks, objectives, alignment

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:04:17.573049

A proposal's business case is one row per fiscal year (investment, running cost,
benefit); a live service's realised benefits one row per fiscal year. Risks of a service
carry likelihood and impact 1-5 (checked). Strategic objectives, the weights services
are aligned to them with, and each organisation's discount rate and target mix.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    
    op.create_table('strategic_objective',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_strategic_objective_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_strategic_objective')),
    sa.UniqueConstraint('organisation_id', 'name', name=op.f('uq_strategic_objective_organisation_id_name'))
    )
    with op.batch_alter_table('strategic_objective', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_strategic_objective_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('strategy_settings',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('discount_rate', sa.BigInteger(), nullable=False),
    sa.Column('target_run', sa.BigInteger(), nullable=True),
    sa.Column('target_grow', sa.BigInteger(), nullable=True),
    sa.Column('target_transform', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_strategy_settings_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('organisation_id', name=op.f('pk_strategy_settings'))
    )
    op.create_table('business_case_year',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('investment', sa.BigInteger(), nullable=False),
    sa.Column('running_cost', sa.BigInteger(), nullable=False),
    sa.Column('benefit', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_business_case_year_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_business_case_year_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_business_case_year')),
    sa.UniqueConstraint('service_id', 'fiscal_year', name=op.f('uq_business_case_year_service_id_fiscal_year'))
    )
    with op.batch_alter_table('business_case_year', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_business_case_year_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_business_case_year_service_id'), ['service_id'], unique=False)

    op.create_table('realised_benefit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_realised_benefit_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['person.id'], name=op.f('fk_realised_benefit_recorded_by_id_person')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_realised_benefit_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_realised_benefit')),
    sa.UniqueConstraint('service_id', 'fiscal_year', name=op.f('uq_realised_benefit_service_id_fiscal_year'))
    )
    with op.batch_alter_table('realised_benefit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_realised_benefit_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_realised_benefit_service_id'), ['service_id'], unique=False)

    op.create_table('risk',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('likelihood', sa.Integer(), nullable=False),
    sa.Column('impact', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('mitigation', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('OPEN', 'MITIGATED', 'ACCEPTED', 'CLOSED', name='riskstatus', native_enum=False, length=32), nullable=False),
    sa.Column('raised_by_id', sa.Integer(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closing_reason', sa.Text(), nullable=True),
    sa.CheckConstraint('impact BETWEEN 1 AND 5', name=op.f('ck_risk_impact_1_to_5')),
    sa.CheckConstraint('likelihood BETWEEN 1 AND 5', name=op.f('ck_risk_likelihood_1_to_5')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_risk_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['owner_id'], ['person.id'], name=op.f('fk_risk_owner_id_person')),
    sa.ForeignKeyConstraint(['raised_by_id'], ['person.id'], name=op.f('fk_risk_raised_by_id_person')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_risk_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk'))
    )
    with op.batch_alter_table('risk', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_service_id'), ['service_id'], unique=False)

    op.create_table('service_alignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('objective_id', sa.Integer(), nullable=False),
    sa.Column('weight', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['objective_id'], ['strategic_objective.id'], name=op.f('fk_service_alignment_objective_id_strategic_objective')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_service_alignment_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_service_alignment_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_alignment')),
    sa.UniqueConstraint('service_id', 'objective_id', name=op.f('uq_service_alignment_service_id_objective_id'))
    )
    with op.batch_alter_table('service_alignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_alignment_objective_id'), ['objective_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_alignment_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_alignment_service_id'), ['service_id'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('service_alignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_alignment_service_id'))
        batch_op.drop_index(batch_op.f('ix_service_alignment_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_service_alignment_objective_id'))

    op.drop_table('service_alignment')
    with op.batch_alter_table('risk', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_service_id'))
        batch_op.drop_index(batch_op.f('ix_risk_organisation_id'))

    op.drop_table('risk')
    with op.batch_alter_table('realised_benefit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_realised_benefit_service_id'))
        batch_op.drop_index(batch_op.f('ix_realised_benefit_organisation_id'))

    op.drop_table('realised_benefit')
    with op.batch_alter_table('business_case_year', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_business_case_year_service_id'))
        batch_op.drop_index(batch_op.f('ix_business_case_year_organisation_id'))

    op.drop_table('business_case_year')
    op.drop_table('strategy_settings')
    with op.batch_alter_table('strategic_objective', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_strategic_objective_organisation_id'))

    op.drop_table('strategic_objective')
    
