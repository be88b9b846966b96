"""A portfolio review, its items and each item's evidence. The items of a review and
their evidence are read together, in a fixed number of statements."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from spm_api.domain.actor import Actor
from spm_api.domain.reviews import reads
from spm_api.domain.session import Session
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.enums import (
    ApprovalStatus,
    Decision,
    Health,
    ItemDecision,
    Recommendation,
    ReviewState,
)
from spm_api.graphql.core.nodes import present
from spm_api.graphql.core.reading import read
from spm_api.graphql.portfolio.types import PersonNode, ServiceNode

REVIEW = "PortfolioReview"


def review_id(pk: int) -> strawberry.ID:
    return strawberry.ID(str(relay.GlobalID(REVIEW, str(pk))))


@strawberry.type(description="One KPI of a reviewed service against its target.")
class KpiEvidence:
    name: str = strawberry.field(description="The KPI's name.")
    unit: str = strawberry.field(description="What it is measured in.")
    target: Decimal = strawberry.field(description="The value aimed for.")
    value: Decimal | None = strawberry.field(description="The current value; null without.")
    period: str | None = strawberry.field(description="When the current value is for.")
    status: Health = strawberry.field(description="How the KPI stands.")
    explanation: str = strawberry.field(description="Why, in words.")


@strawberry.type(description="One month of a service's usage.")
class MonthUsage:
    period: str = strawberry.field(description="The month, YYYY-MM.")
    quantity: Decimal = strawberry.field(description="Every unit used, summed.")
    customers: int = strawberry.field(description="Customers with usage that month.")


@strawberry.type(description="What a review knows of a service: KPIs against targets, "
                             "cost against budget and cost recovery over the review's "
                             "months, usage over the last twelve months, open engagements "
                             "and customers affected.")
class ReviewEvidence:
    health: Health | None = strawberry.field(
        description="The health model's verdict; null unless the service is delivered.")
    health_explanation: str = strawberry.field(description="Why the health is what it is.")
    kpis: list[KpiEvidence] = strawberry.field(description="Every KPI, as defined.")
    cost: Decimal = strawberry.field(description="Actual cost over the review's months.")
    budget: Decimal = strawberry.field(description="Budget over the review's months.")
    budget_variance: Decimal | None = strawberry.field(
        description="(cost - budget) / budget in %; null without a budget.")
    recovered: Decimal = strawberry.field(description="Charges billed over the months.")
    cost_recovery: Decimal | None = strawberry.field(
        description="Recovered / cost in %; null without cost.")
    usage_trend: list[MonthUsage] = strawberry.field(
        description="The twelve months ending with periodTo, oldest first.")
    open_engagements: int = strawberry.field(
        description="Contractor engagements not ended (declined or cancelled).")
    customers_affected: int = strawberry.field(
        description="Customers with usage in the last twelve months.")

    @classmethod
    def of(cls, found: Any) -> ReviewEvidence:
        return cls(
            health=found.health, health_explanation=found.health_explanation,
            kpis=[KpiEvidence(name=k.name, unit=k.unit, target=k.target, value=k.value,
                              period=k.period, status=k.status, explanation=k.explanation)
                  for k in found.kpis],
            cost=found.cost, budget=found.budget, budget_variance=found.budget_variance,
            recovered=found.recovered, cost_recovery=found.cost_recovery,
            usage_trend=[MonthUsage(period=period, quantity=quantity, customers=customers)
                         for period, quantity, customers in found.usage_trend],
            open_engagements=found.open_engagements,
            customers_affected=found.customers_affected)


@strawberry.type(description="A decision maker's vote on a recommendation.")
class ReviewVote:
    decision: Decision = strawberry.field(description="Approve, reject or abstain.")
    comment: str = strawberry.field(description="Why, if said.")
    cast_at: datetime = strawberry.field(description="When it was cast.")
    voter_id: strawberry.Private[int]

    @strawberry.field(description="Who voted.")
    async def voter(self, info: Info[Context, None]) -> PersonNode:
        return present(await info.context.loaders.person.load(self.voter_id))


@strawberry.type(description="One service under review: the recommendation, its votes, "
                             "the decision and the evidence.")
class ReviewItem:
    recommendation: Recommendation = strawberry.field(
        description="What is recommended; RETAIN until someone recommends otherwise.")
    rationale: str = strawberry.field(description="Why.")
    planned_end_date: date | None = strawberry.field(
        description="RETIRE: the last day the service is delivered.")
    decision: ItemDecision = strawberry.field(description="Where the recommendation stands.")
    ruling: ApprovalStatus | None = strawberry.field(
        description="What the approval rules say now (open reviews only).")
    explanation: str = strawberry.field(
        description="The rules' explanation: afresh while open, frozen once decided.")
    evidence: ReviewEvidence | None = strawberry.field(description="What the review knows.")
    votes: list[ReviewVote] = strawberry.field(description="Every vote, oldest first.")
    service_id: strawberry.Private[int]
    successor_id: strawberry.Private[int | None]
    proposal_id: strawberry.Private[int | None]

    @strawberry.field(description="The service reviewed.")
    async def service(self, info: Info[Context, None]) -> ServiceNode:
        return present(await info.context.loaders.service.load(self.service_id))

    @strawberry.field(description="REPLACE: the successor; RATIONALISE: the service it is "
                                  "merged into.")
    async def successor(self, info: Info[Context, None]) -> ServiceNode | None:
        if self.successor_id is None:
            return None
        return await info.context.loaders.service.load(self.successor_id)

    @strawberry.field(description="INVEST: the proposal opened when the review was decided.")
    async def proposal(self, info: Info[Context, None]) -> ServiceNode | None:
        if self.proposal_id is None:
            return None
        return await info.context.loaders.service.load(self.proposal_id)


def item_of(view: reads.ItemView) -> ReviewItem:
    item = view.item
    return ReviewItem(
        recommendation=item.recommendation, rationale=item.rationale,
        planned_end_date=item.planned_end_date, decision=item.decision,
        ruling=view.ruling.status if view.ruling else None,
        explanation=view.ruling.explanation() if view.ruling else item.verdict,
        evidence=ReviewEvidence.of(view.evidence) if view.evidence else None,
        votes=[ReviewVote(decision=v.decision, comment=v.comment, cast_at=v.cast_at,
                          voter_id=v.voter_id) for v in view.votes],
        service_id=item.service_id, successor_id=item.successor_service_id,
        proposal_id=item.proposal_service_id)


@strawberry.type(description="A periodic look at catalogue services over some months, "
                             "one item per service.")
class PortfolioReview:
    id: strawberry.ID = strawberry.field(description="The review's global id.")
    title: str = strawberry.field(description="What the review is called.")
    period_from: str = strawberry.field(description="The first month looked at, YYYY-MM.")
    period_to: str = strawberry.field(description="The last month looked at, YYYY-MM.")
    state: ReviewState = strawberry.field(description="OPEN, or DECIDED and frozen.")
    opened_at: datetime = strawberry.field(description="When it was opened.")
    decided_at: datetime | None = strawberry.field(description="When it was decided.")
    pk: strawberry.Private[int]
    opened_by_id: strawberry.Private[int]

    @strawberry.field(description="Who opened it.")
    async def opened_by(self, info: Info[Context, None]) -> PersonNode:
        return present(await info.context.loaders.person.load(self.opened_by_id))

    @strawberry.field(description="Every service under review, with its evidence.")
    async def items(self, info: Info[Context, None]) -> list[ReviewItem]:
        plugins = info.context.plugins
        pk = self.pk

        async def query(session: Session, actor: Actor) -> list[reads.ItemView]:
            return await reads.item_views(session, plugins,
                                          await reads.review_of(session, actor, pk))

        return [item_of(view) for view in await read(info, query)]


def review_of(row: Any) -> PortfolioReview | None:
    if row is None:
        return None
    return PortfolioReview(id=review_id(row.id), title=row.title, period_from=row.period_from,
                           period_to=row.period_to, state=row.state, opened_at=row.opened_at,
                           decided_at=row.decided_at, pk=row.id,
                           opened_by_id=row.opened_by_id)
