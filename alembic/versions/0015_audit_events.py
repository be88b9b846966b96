"""audit trail: one immutable row per change

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 15:40:00.000000

Who changed what and when, the changed fields before and after (secrets masked), and
the plugin it went through. On PostgreSQL a trigger refuses every UPDATE and DELETE of
a row, whoever sends it; TRUNCATE (the table owner's, for retention) is not refused.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSE = """
CREATE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are immutable: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""

TRIGGER = """
CREATE TRIGGER audit_event_immutable BEFORE UPDATE OR DELETE ON audit_event
FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change()
"""


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('person_name', sa.String(length=200), nullable=False),
    sa.Column('entity_kind', sa.Enum('SERVICE', 'REQUIREMENT', 'STAKEHOLDER_INPUT', 'BUDGET_LINE', 'COST_ENTRY', 'USAGE_RECORD', 'CHARGING_POLICY', 'APPROVAL_RULES', 'PLUGIN_SETTINGS', 'CONTRACTOR', 'PERSON', 'API_TOKEN', 'VOTE', 'ORGANISATION', 'CUSTOMER', 'COST_CATEGORY', name='auditentity', native_enum=False, length=32), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.Enum('CREATED', 'UPDATED', 'DELETED', 'IMPORTED', 'STAGE_CHANGED', 'ROLE_GRANTED', 'ROLE_REVOKED', 'DEACTIVATED', 'REACTIVATED', 'ROTATED', 'REVOKED', 'CAST', name='auditaction', native_enum=False, length=32), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('via', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_audit_event_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_audit_event_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_entity', ['organisation_id', 'entity_kind', 'entity_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_event_organisation_id_id', ['organisation_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_event_person', ['organisation_id', 'person_id', 'id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(REFUSE)
        op.execute(TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER audit_event_immutable ON audit_event')
        op.execute('DROP FUNCTION audit_event_refuse_change()')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_person')
        batch_op.drop_index('ix_audit_event_organisation_id_id')
        batch_op.drop_index('ix_audit_event_entity')
    op.drop_table('audit_event')
