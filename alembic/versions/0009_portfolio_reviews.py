"""stewardship: portfolio reviews

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 15:20:00.000000

A portfolio review looks at catalogue services over a span of months; each reviewed
service is an item with a recommendation and the decision makers' votes on it. A
decided review may link a service to its successor (``service.successor_id``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op



revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('portfolio_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('period_from', sa.String(length=7), nullable=False),
    sa.Column('period_to', sa.String(length=7), nullable=False),
    sa.Column('state', sa.Enum('OPEN', 'DECIDED', name='reviewstate', native_enum=False, length=32), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['person.id'], name=op.f('fk_portfolio_review_decided_by_id_person')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['person.id'], name=op.f('fk_portfolio_review_opened_by_id_person')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_portfolio_review_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portfolio_review'))
    )
    with op.batch_alter_table('portfolio_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portfolio_review_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('review_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('recommendation', sa.Enum('RETAIN', 'INVEST', 'REPLACE', 'RATIONALISE', 'REFACTOR', 'RETIRE', name='recommendation', native_enum=False, length=32), nullable=False),
    sa.Column('successor_service_id', sa.Integer(), nullable=True),
    sa.Column('planned_end_date', sa.Date(), nullable=True),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('decision', sa.Enum('PROPOSED', 'APPROVED', 'REJECTED', name='itemdecision', native_enum=False, length=32), nullable=False),
    sa.Column('verdict', sa.Text(), nullable=False),
    sa.Column('proposal_service_id', sa.Integer(), nullable=True),
    sa.Column('recommended_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_review_item_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['proposal_service_id'], ['service.id'], name=op.f('fk_review_item_proposal_service_id_service')),
    sa.ForeignKeyConstraint(['recommended_by_id'], ['person.id'], name=op.f('fk_review_item_recommended_by_id_person')),
    sa.ForeignKeyConstraint(['review_id'], ['portfolio_review.id'], name=op.f('fk_review_item_review_id_portfolio_review'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_review_item_service_id_service')),
    sa.ForeignKeyConstraint(['successor_service_id'], ['service.id'], name=op.f('fk_review_item_successor_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_item')),
    sa.UniqueConstraint('review_id', 'service_id', name=op.f('uq_review_item_review_id_service_id'))
    )
    with op.batch_alter_table('review_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_item_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_item_review_id'), ['review_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_item_service_id'), ['service_id'], unique=False)

    op.create_table('review_vote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('voter_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.Enum('APPROVE', 'REJECT', 'ABSTAIN', name='decision', native_enum=False, length=32), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('cast_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['review_item.id'], name=op.f('fk_review_vote_item_id_review_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_review_vote_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['voter_id'], ['person.id'], name=op.f('fk_review_vote_voter_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_vote'))
    )
    with op.batch_alter_table('review_vote', schema=None) as batch_op:
        batch_op.create_index('ix_review_vote_item_id_id', ['item_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_vote_organisation_id'), ['organisation_id'], unique=False)

    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.add_column(sa.Column('successor_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_service_successor_id_service'), 'service', ['successor_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_service_successor_id_service'), type_='foreignkey')
        batch_op.drop_column('successor_id')

    with op.batch_alter_table('review_vote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_vote_organisation_id'))
        batch_op.drop_index('ix_review_vote_item_id_id')

    op.drop_table('review_vote')
    with op.batch_alter_table('review_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_item_service_id'))
        batch_op.drop_index(batch_op.f('ix_review_item_review_id'))
        batch_op.drop_index(batch_op.f('ix_review_item_organisation_id'))

    op.drop_table('review_item')
    with op.batch_alter_table('portfolio_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portfolio_review_organisation_id'))

    op.drop_table('portfolio_review')
