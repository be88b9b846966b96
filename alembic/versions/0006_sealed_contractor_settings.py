"""contractor settings sealed at rest (Fernet under SPM_SECRET_KEYS)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 19:40:00.000000

Existing settings are read, sealed with the newest key of ``SPM_SECRET_KEYS`` and
written to ``sealed_settings``; the plain column is dropped. With contractors to seal
and no key, the upgrade stops before changing anything. The downgrade opens them again.
"""

import json
import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, MultiFernet

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

contractor = sa.table('contractor', sa.column('id', sa.Integer()),
                      sa.column('settings', sa.JSON()),
                      sa.column('sealed_settings', sa.Text()))


def _keyring() -> MultiFernet:
    keys = [key.strip() for key in os.environ.get('SPM_SECRET_KEYS', '').split(',')
            if key.strip()]
    if not keys:
        raise RuntimeError('SPM_SECRET_KEYS is not set: contractor settings cannot be '
                           'sealed (spm-api secrets generate-key makes a key)')
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _seal(value: object) -> str:
    return _keyring().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def _open(sealed: str) -> object:
    return json.loads(_keyring().decrypt(sealed.encode()))


def _plain(value: object) -> object:
    # SQLite hands JSON back as text through a bare table(); PostgreSQL as objects.
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(contractor.c.id, contractor.c.settings)).all()
    sealed = {row.id: _seal(_plain(row.settings) or {}) for row in rows}
    with op.batch_alter_table('contractor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_settings', sa.Text(), nullable=True))
    for row_id, value in sealed.items():
        connection.execute(sa.update(contractor).where(contractor.c.id == row_id)
                           .values(sealed_settings=value))
    with op.batch_alter_table('contractor', schema=None) as batch_op:
        batch_op.alter_column('sealed_settings', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('settings')


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(contractor.c.id, contractor.c.sealed_settings)).all()
    opened = {row.id: _open(row.sealed_settings) for row in rows}
    with op.batch_alter_table('contractor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settings', sa.JSON(), nullable=True))
    for row_id, value in opened.items():
        connection.execute(sa.update(contractor).where(contractor.c.id == row_id)
                           .values(settings=value))
    with op.batch_alter_table('contractor', schema=None) as batch_op:
        batch_op.alter_column('settings', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('sealed_settings')
