"""Reading reviews: one by id, a page of them newest first, and a review's items with
their evidence and rulings, all items at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor
from spm_api.domain.approvals.rounds import RoundResult
from spm_api.domain.reads import load_owned
from spm_api.domain.reviews.commands import items_of
from spm_api.domain.reviews.evidence import Evidence, evidence_of
from spm_api.domain.reviews.rulings import rulings, votes_of_items
from spm_api.models import PortfolioReview, ReviewItem, ReviewVote
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.enums import ReviewState


async def review_of(session: AsyncSession, actor: Actor, review_id: int) -> PortfolioReview:
    return await load_owned(session, PortfolioReview, actor.organisation_id, review_id,
                            "id")


@dataclass(frozen=True)
class ReviewsOf:
    """An organisation's reviews, newest first."""

    organisation_id: int

    async def fetch(self, session: AsyncSession, offset: int, limit: int | None
                    ) -> Sequence[PortfolioReview]:
        return (await session.scalars(
            select(PortfolioReview)
            .where(PortfolioReview.organisation_id == self.organisation_id)
            .order_by(PortfolioReview.id.desc()).offset(offset).limit(limit))).all()

    async def count(self, session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(PortfolioReview)
                                        .where(PortfolioReview.organisation_id
                                               == self.organisation_id)) or 0)


@dataclass(frozen=True, slots=True)
class ItemView:
    """An item with what it is shown with: its evidence, votes and the rules' ruling
    (afresh while the review is open; the frozen decision once decided)."""

    item: ReviewItem
    evidence: Evidence | None
    votes: list[ReviewVote]
    ruling: RoundResult | None


async def item_views(session: AsyncSession, plugins: PluginHost, review: PortfolioReview
                     ) -> list[ItemView]:
    """Every item of the review, in a number of statements that does not grow with them."""
    items = await items_of(session, review.id)
    evidence = await evidence_of(session, plugins, review.organisation_id,
                                 [item.service_id for item in items],
                                 review.period_from, review.period_to)
    votes = await votes_of_items(session, [item.id for item in items])
    ruled = {} if review.state is ReviewState.DECIDED else await rulings(
        session, plugins, review.organisation_id, items, votes)
    return [ItemView(item, evidence.get(item.service_id), votes.get(item.id, []),
                     ruled.get(item.id)) for item in items]
