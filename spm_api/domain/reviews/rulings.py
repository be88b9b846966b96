"""What the organisation's approval rules say of each recommendation of a review: the
same rules, settings and decision makers as approval rounds, asked once per item with
a ballot of that item's votes and the reviewed service's facts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.approvals import rounds as approval
from spm_api.domain.finance.business_case import monthly_budgets
from spm_api.models import ReviewItem, ReviewVote, Service
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.enums import ApprovalStatus, Recommendation

#: A RETAIN recommendation keeps things as they are: it needs no vote.
STATUS_QUO = approval.RoundResult(ApprovalStatus.APPROVED, (approval.RuleVerdict(
    "status quo", "", ApprovalStatus.APPROVED,
    "retaining a service changes nothing, so it needs no vote"),))


async def votes_of_items(session: AsyncSession, item_ids: Sequence[int]
                         ) -> dict[int, list[ReviewVote]]:
    """Every vote on the items, oldest first, by item id."""
    found: dict[int, list[ReviewVote]] = defaultdict(list)
    if item_ids:
        for vote in await session.scalars(select(ReviewVote).where(
                ReviewVote.item_id.in_(set(item_ids))).order_by(ReviewVote.id)):
            found[vote.item_id].append(vote)
    return found


async def rulings(session: AsyncSession, plugins: PluginHost, organisation_id: int,
                  items: Sequence[ReviewItem],
                  votes: Mapping[int, list[ReviewVote]] | None = None
                  ) -> dict[int, approval.RoundResult]:
    """Each item's result by item id, evaluated afresh (a fixed number of statements).
    RETAIN needs no ballot: the services, budgets and approval setup are read only for
    the items recommending a change. ``votes``: ``votes_of_items`` when already read."""
    found: dict[int, approval.RoundResult] = {
        item.id: STATUS_QUO for item in items if item.recommendation is Recommendation.RETAIN}
    changing = [item for item in items if item.id not in found]
    if not changing:
        return found
    service_ids = sorted({item.service_id for item in changing})
    services = {service.id: service for service in await session.scalars(
        select(Service).where(Service.organisation_id == organisation_id,
                              Service.id.in_(service_ids)))}
    budgets = dict(zip(service_ids, await monthly_budgets(
        session=session, organisation_id=organisation_id, ids=service_ids), strict=True))
    if votes is None:
        votes = await votes_of_items(session, [item.id for item in changing])
    setup = await approval.approval_setup(session, organisation_id)
    for item in changing:
        service = services[item.service_id]
        ballot = approval.build_ballot(service, votes.get(item.id, []),  # type: ignore[arg-type]
                                       setup.decision_makers, setup.books,
                                       budgets[item.service_id])
        found[item.id] = await approval.evaluate(plugins, ballot, setup.rules, setup.settings)
    return {item.id: found[item.id] for item in items}
