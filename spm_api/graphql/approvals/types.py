"""Types of the approval round, the chartered baseline, deviations and affirmations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from spm_api.domain import rows
from spm_api.domain.approvals import rounds as approval
from spm_api.domain.approvals.baseline import DeviationAspect, DeviationKind
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.enums import ApprovalStatus, Decision, Verdict
from spm_api.graphql.core.money import Money, money_of
from spm_api.graphql.core.nodes import LoadedNode, as_nodes
from spm_api.graphql.core.reading import coded_error
from spm_api.graphql.portfolio.types import PersonNode
from spm_api.plugins.contracts import APPROVAL_RULES
from spm_api.vocabulary.errors import DomainError

if TYPE_CHECKING:
    from spm_api.graphql.reporting.types import StakeholderReportNode

REPORTING_TYPES = "spm_api.graphql.reporting.types"

strawberry.enum(DeviationAspect, description="What part of the baseline a deviation is in.")
strawberry.enum(DeviationKind)


@strawberry.type(name="Vote", description="One vote as cast; later votes replace it.")
class VoteNode(LoadedNode):
    loader_name = "vote"

    id: relay.NodeID[int]
    decision: Decision
    comment: str
    cast_at: datetime
    voter_id: strawberry.Private[int]

    @strawberry.field
    async def voter(self, info: Info[Context, None]) -> PersonNode | None:
        return await info.context.loaders.person.load(self.voter_id)


@strawberry.type
class RuleVerdict:
    rule: str = strawberry.field(description="The approval rule's name.")
    plugin: str = strawberry.field(description="The plugin that registered the rule.")
    status: ApprovalStatus
    explanation: str


@strawberry.type(name="ApprovalRound",
                 description="The decision makers' vote on a proposal in APPROVAL.")
class ApprovalRoundView:
    round: strawberry.Private[rows.ApprovalRound]
    all_votes: strawberry.Private[list[rows.Vote]]
    #: The service the round decides; its rules are asked only for ``status`` and
    #: ``verdicts``, so a failing rule leaves the votes readable.
    service: strawberry.Private[Any] = None
    #: Known when a vote has just decided it; otherwise worked out on first ask.
    result: strawberry.Private[approval.RoundResult | None] = None
    known_decision_makers: strawberry.Private[int | None] = None

    async def worked_out(self, info: Info[Context, None]) -> approval.RoundResult:
        if self.result is None:
            self.result = await round_result(info, self.service, self.round, self.all_votes)
        return self.result

    @strawberry.field(description="How many decision makers may vote in the round right now.")
    async def decision_maker_count(self, info: Info[Context, None]) -> int:
        if self.known_decision_makers is not None:
            return self.known_decision_makers
        setup = await info.context.loaders.approval_setup.load(self.round.organisation_id)
        return len(setup.decision_makers)

    @strawberry.field(description="APPROVED, REJECTED or PENDING: what all the chosen rules "
                                  "conclude together. Frozen when the round closes.")
    async def status(self, info: Info[Context, None]) -> ApprovalStatus:
        return (await self.worked_out(info)).status

    @strawberry.field
    def opened_at(self) -> datetime:
        return self.round.opened_at

    @strawberry.field(description="When the service left APPROVAL; null while voting is open.")
    def closed_at(self) -> datetime | None:
        return self.round.closed_at

    @strawberry.field(description="Each decision maker's current vote.")
    def votes(self) -> list[VoteNode]:
        return as_nodes(VoteNode, approval.current_votes(self.all_votes))

    @strawberry.field(description="Every vote cast, replaced ones included, oldest first.")
    def vote_history(self) -> list[VoteNode]:
        return as_nodes(VoteNode, self.all_votes)

    @strawberry.field(description="Each chosen rule's verdict and why.")
    async def verdicts(self, info: Info[Context, None]) -> list[RuleVerdict]:
        return [RuleVerdict(rule=v.rule, plugin=v.plugin, status=v.status,
                            explanation=v.explanation)
                for v in (await self.worked_out(info)).verdicts]


async def round_result(info: Info[Context, None], service: Any, latest: rows.ApprovalRound,
                       votes: list[rows.Vote]) -> approval.RoundResult:
    """The round evaluated by the rules with batched reads, once per round per request,
    whichever read path asks first: a plugin that fails or hangs is called (and logged)
    once."""
    loaders = info.context.loaders
    result = loaders.round_results.get(latest.id)
    if result is None:
        setup = await loaders.approval_setup.load(service.organisation_id)
        budget = ([] if latest.outcome else
                  await loaders.monthly_budget_of_service.load(service.id))
        try:
            result = await approval.result_of(info.context.plugins, service, latest, votes,
                                              setup, budget)
        except DomainError as error:
            result = error
        loaders.round_results[latest.id] = result
    if isinstance(result, DomainError):
        raise coded_error(result) from result
    return result


async def approval_of(info: Info[Context, None], service: Any) -> ApprovalRoundView | None:
    """The service's latest round and its votes (batched reads)."""
    rounds = await info.context.loaders.approval_rounds_of_service.load(service.id)
    if not rounds:
        return None
    return await _view_of(info, service, rounds[-1])


async def approval_rounds_of(info: Info[Context, None], service: Any
                             ) -> list[ApprovalRoundView]:
    """Every round of the service, oldest first; closed ones as they were frozen."""
    rounds = await info.context.loaders.approval_rounds_of_service.load(service.id)
    return [await _view_of(info, service, each) for each in rounds]


async def _view_of(info: Info[Context, None], service: Any,
                   approval_round: rows.ApprovalRound) -> ApprovalRoundView:
    votes = await info.context.loaders.votes_of_round.load(approval_round.id)
    return ApprovalRoundView(round=approval_round, all_votes=votes, service=service)


@strawberry.type
class Deviation:
    aspect: DeviationAspect
    kind: DeviationKind
    subject: str
    baseline: str | None = strawberry.field(description="As chartered; null when added.")
    current: str | None = strawberry.field(description="As it is now; null when removed.")
    description: str


@strawberry.type
class BaselineRequirement:
    text: str
    necessity: str


@strawberry.type
class BaselineCapability:
    name: str
    sourcing: str
    estimated_cost: Money | None


@strawberry.type(description="What was agreed when the service was chartered.")
class Baseline:
    row: strawberry.Private[rows.Baseline]

    @strawberry.field
    def frozen_at(self) -> datetime:
        return self.row.frozen_at

    @strawberry.field
    def objectives(self) -> str:
        return str(self.row.content.get("objectives", ""))

    @strawberry.field
    def summary(self) -> str:
        return str(self.row.content.get("summary", ""))

    @strawberry.field
    async def estimated_cost(self, info: Info[Context, None]) -> Money | None:
        cost = self.row.content.get("estimated_cost")
        return await money_of(info, None if cost is None else Decimal(cost))

    @strawberry.field
    def requirements(self) -> list[BaselineRequirement]:
        return [BaselineRequirement(text=r["text"], necessity=r["necessity"])
                for r in self.row.content.get("requirements", [])]

    @strawberry.field(description="The budget over all months when chartered; null for "
                                  "baselines frozen before budgets were part of them.")
    async def budget(self, info: Info[Context, None]) -> Money | None:
        amount = self.row.content.get("budget")
        return await money_of(info, None if amount is None else Decimal(amount))

    @strawberry.field
    async def capabilities(self, info: Info[Context, None]) -> list[BaselineCapability]:
        return [BaselineCapability(
            name=c["name"], sourcing=c["sourcing"],
            estimated_cost=await money_of(info, None if c["estimated_cost"] is None
                                          else Decimal(c["estimated_cost"])))
            for c in self.row.content.get("capabilities", [])]


@strawberry.type(name="Affirmation",
                 description="A stakeholder's word on the delivered outcome: affirmed, or "
                             "disputed with a reason (a dispute blocks LIVE until "
                             "resolved).")
class AffirmationNode(LoadedNode):
    loader_name = "affirmation"

    id: relay.NodeID[int]
    comment: str = strawberry.field(description="The comment; for a dispute, its reason.")
    deviation_count: int = strawberry.field(
        description="How many deviations from the baseline were reported when affirming.")
    at: datetime
    verdict: Verdict = strawberry.field(description="Affirmed or disputed.")
    resolution: str | None = strawberry.field(
        description="How a portfolio manager settled the dispute; null while it is open "
                    "(and for an affirmation).")
    resolved_at: datetime | None = strawberry.field(description="When it was settled.")
    person_id: strawberry.Private[int]
    service_id: strawberry.Private[int]
    report_id: strawberry.Private[int | None]
    resolved_by_id: strawberry.Private[int | None]

    @strawberry.field
    async def person(self, info: Info[Context, None]) -> PersonNode | None:
        return await info.context.loaders.person.load(self.person_id)

    @strawberry.field(description="The stakeholder report the verdict was given on; null "
                                  "when none had been issued.")
    async def report(self, info: Info[Context, None]
                     ) -> Annotated[StakeholderReportNode,
                                    strawberry.lazy(REPORTING_TYPES)] | None:
        if self.report_id is None:
            return None
        return await info.context.loaders.stakeholder_report.load(self.report_id)

    @strawberry.field(description="Who settled the dispute.")
    async def resolved_by(self, info: Info[Context, None]) -> PersonNode | None:
        if self.resolved_by_id is None:
            return None
        return await info.context.loaders.person.load(self.resolved_by_id)


@strawberry.type(description="An approval rule installed on this server.")
class ApprovalRuleInfo:
    name: str
    title: str
    description: str
    plugin: str = strawberry.field(description="The plugin that registered it.")
    chosen: bool = strawberry.field(description="Whether your organisation applies it.")


async def approval_rules(info: Info[Context, None]) -> list[ApprovalRuleInfo]:
    """Every installed rule, and whether the viewer's organisation has chosen it."""
    assert info.context.actor is not None
    setup = await info.context.loaders.approval_setup.load(info.context.actor.organisation_id)
    return [
        ApprovalRuleInfo(name=name, title=registered.item.title,
                         description=registered.item.description, plugin=registered.plugin,
                         chosen=name in setup.rules)
        for name, registered in sorted(info.context.plugins.registry(APPROVAL_RULES).items())
    ]
