"""stakeholders, their reports and disputed affirmations

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 15:16:44.351023

A stakeholder is a person registered with a role on a service; a stakeholder report is
a frozen snapshot of what they were told. An affirmation gains a verdict (AFFIRMED, or
DISPUTED with a reason), the report it was given on, and how a dispute was resolved;
affirmations recorded before are AFFIRMED.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('stakeholder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('SPONSOR', 'USER_REPRESENTATIVE', 'OPERATIONS', 'FINANCE', name='stakeholderrole', native_enum=False, length=32), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['person.id'], name=op.f('fk_stakeholder_added_by_id_person')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_stakeholder_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_stakeholder_person_id_person')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_stakeholder_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stakeholder')),
    sa.UniqueConstraint('service_id', 'person_id', 'role', name=op.f('uq_stakeholder_service_id_person_id_role'))
    )
    with op.batch_alter_table('stakeholder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stakeholder_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stakeholder_service_id'), ['service_id'], unique=False)

    op.create_table('stakeholder_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.Enum('DEFINITION', 'ANALYSIS', 'APPROVAL', 'CHARTERED', 'LIVE', 'RETIRING', 'RETIRED', 'REJECTED', 'WITHDRAWN', 'CANCELLED', name='stage', native_enum=False, length=32), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['issued_by_id'], ['person.id'], name=op.f('fk_stakeholder_report_issued_by_id_person')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_stakeholder_report_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_stakeholder_report_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stakeholder_report'))
    )
    with op.batch_alter_table('stakeholder_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stakeholder_report_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_stakeholder_report_service_id_id', ['service_id', 'id'], unique=False)

    with op.batch_alter_table('affirmation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verdict', sa.Enum('AFFIRMED', 'DISPUTED', name='verdict', native_enum=False, length=32), nullable=False, server_default='AFFIRMED'))
        batch_op.add_column(sa.Column('report_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('resolution', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('resolved_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_affirmation_resolved_by_id_person'), 'person', ['resolved_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_affirmation_report_id_stakeholder_report'), 'stakeholder_report', ['report_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('affirmation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_affirmation_report_id_stakeholder_report'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_affirmation_resolved_by_id_person'), type_='foreignkey')
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('resolved_by_id')
        batch_op.drop_column('resolution')
        batch_op.drop_column('report_id')
        batch_op.drop_column('verdict')

    with op.batch_alter_table('stakeholder_report', schema=None) as batch_op:
        batch_op.drop_index('ix_stakeholder_report_service_id_id')
        batch_op.drop_index(batch_op.f('ix_stakeholder_report_organisation_id'))

    op.drop_table('stakeholder_report')
    with op.batch_alter_table('stakeholder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stakeholder_service_id'))
        batch_op.drop_index(batch_op.f('ix_stakeholder_organisation_id'))

    op.drop_table('stakeholder')
