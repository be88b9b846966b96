"""stakeholder reports numbered per service

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 21:10:00.000000

Each stakeholder report of a service gets its number in the service's series (1, 2,
…), unique per service, so two reports issued at once cannot both be number 3.
Disputes need no table of their own: an affirmation with the verdict DISPUTED is one,
open while its resolution is empty (migration 0010 added those columns). Reports
written before (none are) are numbered by their ids.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('stakeholder_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence', sa.Integer(), nullable=True))
    op.execute('UPDATE stakeholder_report SET sequence = id')
    with op.batch_alter_table('stakeholder_report', schema=None) as batch_op:
        batch_op.alter_column('sequence', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f('uq_stakeholder_report_service_id_sequence'), ['service_id', 'sequence'])


def downgrade() -> None:
    with op.batch_alter_table('stakeholder_report', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_stakeholder_report_service_id_sequence'),
                                 type_='unique')
        batch_op.drop_column('sequence')
