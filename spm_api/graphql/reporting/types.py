"""The stakeholders of a service and their roles, and the reports they were given."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from spm_api.domain.approvals.baseline import DeviationAspect, DeviationKind
from spm_api.domain.reporting import markdown
from spm_api.domain.reporting.reports import exported
from spm_api.graphql.approvals.types import AffirmationNode, BaselineRequirement, Deviation
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.enums import (
    Health,
    KpiDirection,
    KpiKind,
    Stage,
    StakeholderRole,
    Verdict,
)
from spm_api.graphql.core.money import Money, money_in
from spm_api.graphql.core.nodes import LoadedNode, present
from spm_api.graphql.portfolio.types import PersonNode, ServiceNode


@strawberry.type(name="Stakeholder",
                 description="A person of the organisation registered with a role on a "
                             "service: whom its reports go to.")
class StakeholderNode(LoadedNode):
    loader_name = "stakeholder"

    id: relay.NodeID[int]
    role: StakeholderRole = strawberry.field(description="Their stake in the service.")
    added_at: datetime = strawberry.field(description="When they were registered.")
    person_id: strawberry.Private[int]
    service_id: strawberry.Private[int]
    added_by_id: strawberry.Private[int]

    @strawberry.field(description="The person registered.")
    async def person(self, info: Info[Context, None]) -> PersonNode:
        return present(await info.context.loaders.person.load(self.person_id))

    @strawberry.field(description="Who registered them.")
    async def added_by(self, info: Info[Context, None]) -> PersonNode | None:
        return await info.context.loaders.person.load(self.added_by_id)


def _money(content: dict[str, Any], value: Any) -> Money | None:
    """A frozen amount in the report's own currency."""
    return None if value is None else money_in(Decimal(value), content["currency"])


def _requirements(listed: list[dict[str, Any]]) -> list[BaselineRequirement]:
    return [BaselineRequirement(text=r["text"], necessity=r["necessity"]) for r in listed]


@strawberry.type(description="What was agreed at chartering, as the report gave it.")
class ReportBaseline:
    frozen_at: datetime
    objectives: str
    summary: str
    estimated_cost: Money | None
    budget: Money | None = strawberry.field(
        description="Null for baselines frozen before budgets were part of them.")
    requirements: list[BaselineRequirement]


@strawberry.type(description="The service when the report was issued.")
class ReportCurrent:
    objectives: str
    summary: str
    estimated_cost: Money | None
    budget: Money = strawberry.field(description="Its budget over all months.")
    actual_spend: Money = strawberry.field(
        description="Every cost booked against it up to the report.")
    requirements: list[BaselineRequirement]


@strawberry.type(description="A KPI as the report gave it: its latest value and status.")
class ReportKpi:
    name: str
    unit: str
    kind: KpiKind
    direction: KpiDirection
    target: Decimal
    warning_threshold: Decimal
    breach_threshold: Decimal
    value: Decimal | None = strawberry.field(description="Its latest value; null without one.")
    measured: str | None = strawberry.field(
        description="The month (YYYY-MM) or instant of that value.")
    status: Health | None = strawberry.field(
        description="The health model's judgement; null unless the service was LIVE or "
                    "RETIRING.")
    explanation: str | None


@strawberry.type(description="The service's health when the report was issued.")
class ReportHealth:
    status: Health
    explanation: str
    model: str = strawberry.field(description="The health model that judged it.")


@strawberry.type(description="A stakeholder as the report listed them.")
class ReportStakeholder:
    name: str
    role: StakeholderRole


@strawberry.type(description="An affirmation or dispute as the report listed it.")
class ReportAffirmation:
    person: str = strawberry.field(description="Who gave it.")
    verdict: Verdict
    comment: str = strawberry.field(description="The comment; for a dispute, its reason.")
    at: datetime
    deviation_count: int
    resolution: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    affirmation_id: strawberry.Private[int]

    @strawberry.field(description="The affirmation itself, as it is now.")
    async def affirmation(self, info: Info[Context, None]) -> AffirmationNode | None:
        return await info.context.loaders.affirmation.load(self.affirmation_id)


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@strawberry.type(name="StakeholderReport",
                 description="What a service's stakeholders were told at one moment, frozen "
                             "when issued: the baseline and the service then, the "
                             "deviations, the KPIs with their health, the stakeholders and "
                             "their affirmations.")
class StakeholderReportNode(LoadedNode):
    loader_name = "stakeholder_report"

    id: relay.NodeID[int]
    sequence: int = strawberry.field(description="Its number in the service's series: 1, 2, …")
    stage: Stage = strawberry.field(description="The service's stage when it was issued.")
    issued_at: datetime
    content: strawberry.Private[dict[str, Any]]
    service_id: strawberry.Private[int]
    issued_by_id: strawberry.Private[int | None]

    @strawberry.field(description="The service reported on.")
    async def service(self, info: Info[Context, None]) -> ServiceNode:
        return present(await info.context.loaders.service.load(self.service_id))

    @strawberry.field(name="content", description="Everything it says, as exported "
                                                  "(spm-api report service --format json).")
    def content_json(self) -> JSON:
        return cast(JSON, exported(self.id, self.content))

    @strawberry.field(description="Who issued it.")
    async def issued_by(self, info: Info[Context, None]) -> PersonNode | None:
        if self.issued_by_id is None:
            return None
        return await info.context.loaders.person.load(self.issued_by_id)

    @strawberry.field(description="The currency its amounts are in (ISO 4217).")
    def currency(self) -> str:
        return str(self.content["currency"])

    @strawberry.field(description="The baseline frozen at chartering; null without one.")
    def baseline(self) -> ReportBaseline | None:
        base = self.content.get("baseline")
        if base is None:
            return None
        return ReportBaseline(
            frozen_at=datetime.fromisoformat(base["frozen_at"]),
            objectives=base["objectives"], summary=base["summary"],
            estimated_cost=_money(self.content, base["estimated_cost"]),
            budget=_money(self.content, base["budget"]),
            requirements=_requirements(base["requirements"]))

    @strawberry.field(description="The service as it was when the report was issued.")
    def current(self) -> ReportCurrent:
        now = self.content["current"]
        return ReportCurrent(
            objectives=now["objectives"], summary=now["summary"],
            estimated_cost=_money(self.content, now["estimated_cost"]),
            budget=present(_money(self.content, now["budget"])),
            actual_spend=present(_money(self.content, now["actual_spend"])),
            requirements=_requirements(now["requirements"]))

    @strawberry.field(description="What had changed since the baseline.")
    def deviations(self) -> list[Deviation]:
        return [Deviation(aspect=DeviationAspect(d["aspect"]), kind=DeviationKind(d["kind"]),
                          subject=d["subject"], baseline=d["baseline"],
                          current=d["current"], description=d["description"])
                for d in self.content["deviations"]]

    @strawberry.field(description="Its KPIs, in the order they were defined.")
    def kpis(self) -> list[ReportKpi]:
        return [ReportKpi(
            name=k["name"], unit=k["unit"], kind=KpiKind(k["kind"]),
            direction=KpiDirection(k["direction"]), target=Decimal(k["target"]),
            warning_threshold=Decimal(k["warning_threshold"]),
            breach_threshold=Decimal(k["breach_threshold"]),
            value=None if k["value"] is None else Decimal(k["value"]),
            measured=k["measured"],
            status=None if k["status"] is None else Health(k["status"]),
            explanation=k["explanation"]) for k in self.content["kpis"]]

    @strawberry.field(description="Its health; null unless it was LIVE or RETIRING.")
    def health(self) -> ReportHealth | None:
        found = self.content.get("health")
        if found is None:
            return None
        return ReportHealth(status=Health(found["status"]), explanation=found["explanation"],
                            model=found["model"])

    @strawberry.field(description="Its registered stakeholders then.")
    def stakeholders(self) -> list[ReportStakeholder]:
        return [ReportStakeholder(name=s["name"], role=StakeholderRole(s["role"]))
                for s in self.content["stakeholders"]]

    @strawberry.field(description="The affirmations and disputes given before it, oldest "
                                  "first, as they stood then.")
    def affirmations(self) -> list[ReportAffirmation]:
        return [ReportAffirmation(
            person=a["person"], verdict=Verdict(a["verdict"]), comment=a["comment"],
            at=datetime.fromisoformat(a["at"]), deviation_count=a["deviation_count"],
            resolution=a["resolution"], resolved_by=a["resolved_by"],
            resolved_at=_when(a["resolved_at"]), affirmation_id=a["id"])
            for a in self.content["affirmations"]]

    @strawberry.field(description="The report as Markdown (what spm-api report service "
                                  "--format md prints).")
    def markdown(self) -> str:
        return markdown.render(self.content)
