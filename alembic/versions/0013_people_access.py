"""people and access: deactivated people, token expiry and rotation

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 21:20:00.000000

A person may be deactivated (none of their tokens authenticates until they are
reactivated); a token may expire, and records when its secret was last rotated.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deactivated_at', sa.DateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('rotated_at')
        batch_op.drop_column('expires_at')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('deactivated_at')
