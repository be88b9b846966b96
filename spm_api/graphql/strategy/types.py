"""Business cases, risks, strategic objectives and alignment as GraphQL types."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from spm_api.domain.strategy import cases, figures, objectives, risks
from spm_api.domain.strategy.settings import Strategy
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.enums import InvestmentCategory, RiskStatus
from spm_api.graphql.core.money import Money, books_currency, money_in
from spm_api.graphql.core.nodes import LoadedNode, as_nodes, present
from spm_api.graphql.core.reading import read
from spm_api.graphql.portfolio.types import PersonNode

if TYPE_CHECKING:
    from spm_api.graphql.portfolio.types import ServiceNode

PORTFOLIO_TYPES = "spm_api.graphql.portfolio.types"


@strawberry.type(description="One fiscal year of a business case. Net cash flow = benefit "
                             "- investment - running cost; its present value is divided "
                             "by (1 + discount rate) to the power of the year's place in "
                             "the case (the first year is 0: not discounted).")
class CaseYear:
    fiscal_year: int = strawberry.field(description="Named by the year it ends in.")
    investment: Money
    running_cost: Money
    benefit: Money = strawberry.field(description="The benefit expected in the year.")
    net_cash_flow: Money
    present_value: Money = strawberry.field(description="Rounded half-up to the minor "
                                                        "unit (the NPV is rounded once, "
                                                        "from the exact values).")
    cumulative_net_cash_flow: Money = strawberry.field(
        description="Net cash flow of the case up to and including this year.")


@strawberry.type(description="A fiscal year's expected benefit against what the live "
                             "service realised.")
class BenefitRealisation:
    fiscal_year: int
    expected: Money = strawberry.field(description="The case's benefit for the year (0 "
                                                   "outside the case).")
    realised: Money | None = strawberry.field(description="Null until recorded.")
    variance: Money | None = strawberry.field(
        description="Realised - expected: negative when short of the case.")
    note: str = ""


@strawberry.type(description="A proposal's business case over fiscal years and its "
                             "figures. Every figure is computed exactly and rounded once, "
                             "half-up: money to the currency's minor unit, ROI to four "
                             "places, payback to two places of a year.")
class BusinessCase:
    years: list[CaseYear] = strawberry.field(description="Oldest first, one after another.")
    discount_rate: Decimal = strawberry.field(
        description="The organisation's rate the case is discounted at (0.08 is 8%).")
    npv: Money = strawberry.field(description="Net present value: the years' net cash "
                                              "flows, each discounted, added up.")
    total_cost_of_ownership: Money = strawberry.field(
        description="Investment and running cost over every year of the case, "
                    "undiscounted.")
    total_benefit: Money
    roi: Decimal | None = strawberry.field(
        description="(total benefit - TCO) / TCO, undiscounted; 0.3077 is 30.77%; null "
                    "when the case costs nothing.")
    payback_years: Decimal | None = strawberry.field(
        description="Years from the start of the first fiscal year until the cumulative "
                    "net cash flow reaches zero, each year's flow spread evenly over it; "
                    "null when the case never pays back.")
    payback_fiscal_year: int | None = strawberry.field(
        description="The fiscal year it pays back in; null when it never does.")
    pays_back: bool
    realisation: list[BenefitRealisation] = strawberry.field(
        description="Each fiscal year of the case or with a realised benefit recorded, "
                    "oldest first.")
    realised_total: Money = strawberry.field(description="Every realised benefit recorded.")


def business_case(flows: list[figures.CashFlow], strategy: Strategy, currency: str,
                  realised: list[Any], case_rows: list[Any]) -> BusinessCase:
    found = figures.evaluate(flows, strategy.discount_rate, currency)
    notes = {row.fiscal_year: row.note for row in realised}

    def money(amount: Decimal) -> Money:
        return money_in(amount, currency)

    def optional(amount: Decimal | None) -> Money | None:
        return None if amount is None else money(amount)

    return BusinessCase(
        years=[CaseYear(fiscal_year=year.flow.fiscal_year,
                        investment=money(year.flow.investment),
                        running_cost=money(year.flow.running_cost),
                        benefit=money(year.flow.benefit), net_cash_flow=money(year.flow.net),
                        present_value=money(year.present_value),
                        cumulative_net_cash_flow=money(year.cumulative))
               for year in found.years],
        discount_rate=found.discount_rate, npv=money(found.npv),
        total_cost_of_ownership=money(found.total_cost_of_ownership),
        total_benefit=money(found.total_benefit), roi=found.roi,
        payback_years=found.payback_years, payback_fiscal_year=found.payback_fiscal_year,
        pays_back=found.payback_years is not None,
        realisation=[BenefitRealisation(fiscal_year=row.fiscal_year,
                                        expected=money(row.expected),
                                        realised=optional(row.realised),
                                        variance=optional(row.variance),
                                        note=notes.get(row.fiscal_year, ""))
                     for row in cases.realisation(case_rows, realised)],
        realised_total=money(sum((row.amount for row in realised), Decimal(0))))


async def business_case_of(info: Info[Context, None], service_id: int
                           ) -> BusinessCase | None:
    """The service's case through the request's loaders; None without one."""
    loaders = info.context.loaders
    case_rows = await loaders.case_years_of_service.load(service_id)
    if not case_rows:
        return None
    realised = await loaders.realised_benefits_of_service.load(service_id)
    actor = info.context.actor
    assert actor is not None
    strategy = present(await loaders.strategy.load(actor.organisation_id))
    return business_case(cases.flows_of(case_rows), strategy, await books_currency(info),
                         list(realised), list(case_rows))


@strawberry.type(name="Risk", description="A risk of a service. Exposure = likelihood x "
                                          "impact (1-25).")
class RiskNode(LoadedNode):
    loader_name = "risk"

    id: relay.NodeID[int]
    description: str
    likelihood: int = strawberry.field(description="1 (rare) to 5 (almost certain).")
    impact: int = strawberry.field(description="1 (negligible) to 5 (severe).")
    exposure: int = strawberry.field(description="likelihood x impact.")
    mitigation: str
    status: RiskStatus
    raised_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    closing_reason: str | None
    owner_id: strawberry.Private[int | None]
    raised_by_id: strawberry.Private[int]
    service_id: strawberry.Private[int]

    @strawberry.field(description="Who answers for the risk.")
    async def owner(self, info: Info[Context, None]) -> PersonNode | None:
        return None if self.owner_id is None else await info.context.loaders.person.load(
            self.owner_id)

    @strawberry.field
    async def raised_by(self, info: Info[Context, None]) -> PersonNode | None:
        return await info.context.loaders.person.load(self.raised_by_id)

    @strawberry.field
    async def service(self, info: Info[Context, None]
                      ) -> Annotated[ServiceNode, strawberry.lazy(PORTFOLIO_TYPES)]:
        return present(await info.context.loaders.service.load(self.service_id))


@strawberry.type(description="The exposure of a service's risks that count (every status "
                             "but CLOSED).")
class RiskExposure:
    risks: int = strawberry.field(description="How many risks count.")
    total: int = strawberry.field(description="Their exposures added up.")
    highest: int = strawberry.field(description="The largest exposure among them (0-25).")


def exposure_view(found: risks.Exposure) -> RiskExposure:
    return RiskExposure(risks=found.risks, total=found.total, highest=found.highest)


@strawberry.type(name="StrategicObjective",
                 description="An objective the organisation's strategy pursues.")
class StrategicObjectiveNode(LoadedNode):
    loader_name = "strategic_objective"

    id: relay.NodeID[int]
    name: str
    description: str
    created_at: datetime

    @strawberry.field(description="The services aligned to it, in the order aligned.")
    async def alignments(self, info: Info[Context, None]) -> list[ServiceAlignment]:
        return await info.context.loaders.alignments_of_objective.load(self.id)


@strawberry.type(description="How much a service serves a strategic objective.")
class ServiceAlignment:
    weight: Decimal = strawberry.field(description="Above 0, at most 1.")
    objective_id: strawberry.Private[int]
    service_id: strawberry.Private[int]

    @strawberry.field
    async def objective(self, info: Info[Context, None]) -> StrategicObjectiveNode:
        return present(await info.context.loaders.strategic_objective.load(self.objective_id))

    @strawberry.field
    async def service(self, info: Info[Context, None]
                      ) -> Annotated[ServiceNode, strawberry.lazy(PORTFOLIO_TYPES)]:
        return present(await info.context.loaders.service.load(self.service_id))


@strawberry.type(description="The share of investment aimed at per category; they add "
                             "up to 1.")
class TargetMix:
    run: Decimal
    grow: Decimal
    transform: Decimal


@strawberry.type(description="Your organisation's strategy: its discount rate, target "
                             "investment mix and strategic objectives.")
class StrategyView:
    discount_rate: Decimal = strawberry.field(
        description="The rate business cases are discounted at (0.08 is 8%, the default).")
    target_mix: TargetMix | None = strawberry.field(description="Null until set.")
    organisation_id: strawberry.Private[int]

    @strawberry.field(description="The strategic objectives, by name.")
    async def objectives(self, info: Info[Context, None]) -> list[StrategicObjectiveNode]:
        return as_nodes(StrategicObjectiveNode, await read(info, objectives.objectives))


def strategy_view(found: Strategy) -> StrategyView:
    C = InvestmentCategory
    mix = found.target_mix
    return StrategyView(
        discount_rate=found.discount_rate,
        target_mix=None if mix is None else TargetMix(
            run=mix[C.RUN], grow=mix[C.GROW], transform=mix[C.TRANSFORM]),
        organisation_id=found.organisation_id)
