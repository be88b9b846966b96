"""withdrawn, cancelled and retiring services: planned end date, engagement cancellations

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 21:20:00.000000

Stages are stored as strings without a CHECK constraint, so the new stages (RETIRING,
WITHDRAWN, CANCELLED) and engagement statuses need no change to existing columns.
Existing delivery attempts were all requests.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('service') as batch:
        batch.add_column(sa.Column('planned_end_date', sa.Date(), nullable=True))
    with op.batch_alter_table('engagement') as batch:
        batch.add_column(sa.Column('cancellation_reason', sa.Text(), nullable=True))
    with op.batch_alter_table('engagement_attempt') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=32), nullable=False,
                                   server_default='REQUEST'))


def downgrade() -> None:
    with op.batch_alter_table('engagement_attempt') as batch:
        batch.drop_column('kind')
    with op.batch_alter_table('engagement') as batch:
        batch.drop_column('cancellation_reason')
    with op.batch_alter_table('service') as batch:
        batch.drop_column('planned_end_date')
