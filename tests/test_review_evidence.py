"""A review's evidence against a straightforward computation from the same rows: the
batched reads (the books grouped once for every service, the latest measurement by one
index probe per KPI) must show what summing and picking row by row gives."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.db.engine import create_session_factory
from spm_api.models import BudgetLine, CostEntry, Customer, Kpi, Measurement, Service, UsageRecord
from spm_api.vocabulary.enums import (
    CustomerKind,
    InvestmentCategory,
    KpiDirection,
    KpiKind,
    Role,
)
from spm_api.vocabulary.periods import Period
from spm_api.vocabulary.stages import Stage
from tests.support import GraphQLClient, Org
from tests.test_portfolio_reviews import DECISION_PAGE, OPEN

#: The months the books and measurements span: before, within and after the review.
MONTHS = [str(Period(2025, 6).shifted(offset)) for offset in range(20)]  # to 2027-01
PERIOD_FROM, PERIOD_TO = "2026-01", "2026-09"
STEP = Decimal("0.0001")
SEVERITY = ["HEALTHY", "UNKNOWN", "AT_RISK", "FAILING"]


def _amount(rng: random.Random) -> Decimal:
    return Decimal(rng.randrange(1, 5_000_000)).scaleb(-4)


async def _seed(db: AsyncEngine, org: Org, rng: random.Random) -> dict[str, Any]:
    """Four live services with measured and built-in KPIs, costs, budgets and usage
    over scattered months, inserted out of order; returns the rows as inserted."""
    now = datetime.now(UTC)
    person = org.person_ids[Role.ADMIN]
    data: dict[str, Any] = {"measurements": [], "costs": [], "budgets": [], "usage": []}
    async with create_session_factory(db)() as session, session.begin():
        await session.execute(insert(Service), [
            {"organisation_id": org.id, "name": f"Checked {n}", "summary": "",
             "objectives": "", "investment_category": InvestmentCategory.RUN,
             "stage": Stage.LIVE, "version": 1, "created_at": now, "updated_at": now}
            for n in range(4)])
        services = list(await session.scalars(select(Service.id).where(
            Service.organisation_id == org.id).order_by(Service.id)))
        customers = []
        for name in ("Sales", "Legal", "Ops"):
            customer = Customer(organisation_id=org.id, name=name,
                                kind=CustomerKind.INTERNAL_DEPARTMENT)
            session.add(customer)
            customers.append(customer)
        await session.flush()
        kpis = []
        for service in services:
            for name, kind, direction, limits in (
                    ("Availability", KpiKind.MEASURED, KpiDirection.HIGHER_IS_BETTER,
                     (99, 98, 97)),
                    ("Never measured", KpiKind.MEASURED, KpiDirection.LOWER_IS_BETTER,
                     (1, 2, 3)),
                    ("Unit cost", KpiKind.COST_PER_UNIT, KpiDirection.LOWER_IS_BETTER,
                     (100, 400, 900))):
                kpi = Kpi(organisation_id=org.id, service_id=service, name=name, unit="",
                          kind=kind, direction=direction, target=Decimal(limits[0]),
                          warning_threshold=Decimal(limits[1]),
                          breach_threshold=Decimal(limits[2]), created_by_id=person)
                session.add(kpi)
                kpis.append(kpi)
        await session.flush()
        for kpi in kpis:
            if kpi.name != "Availability":
                continue
            months = rng.sample(MONTHS, rng.randrange(1, 12))
            for month in months:  # out of order on purpose
                at = datetime(int(month[:4]), int(month[5:]), rng.randrange(1, 28),
                              tzinfo=UTC)
                data["measurements"].append({
                    "organisation_id": org.id, "kpi_id": kpi.id, "period": month, "at": at,
                    "value": Decimal(rng.randrange(960_000, 1_000_000)).scaleb(-4),
                    "source": "test", "recorded_at": now})
        for service in services:
            for month in rng.sample(MONTHS, rng.randrange(3, len(MONTHS))):
                for _ in range(rng.randrange(1, 4)):
                    data["costs"].append({
                        "organisation_id": org.id, "service_id": service,
                        "booked_on": date(int(month[:4]), int(month[5:]), 10),
                        "period": month, "category": "labour", "amount": _amount(rng),
                        "description": "", "source": "test", "created_at": now})
            for month in rng.sample(MONTHS, rng.randrange(0, len(MONTHS))):
                data["budgets"].append({
                    "organisation_id": org.id, "service_id": service, "period": month,
                    "category": "labour", "amount": _amount(rng), "updated_at": now})
            for month in rng.sample(MONTHS, rng.randrange(2, len(MONTHS))):
                for customer in rng.sample(customers, rng.randrange(1, 4)):
                    data["usage"].append({
                        "organisation_id": org.id, "customer_id": customer.id,
                        "service_id": service, "period": month,
                        "quantity": Decimal(rng.randrange(0, 90_000)).scaleb(-4),
                        "unit": "GB", "source": "test", "created_at": now})
        for model, rows in ((Measurement, "measurements"), (CostEntry, "costs"),
                            (BudgetLine, "budgets"), (UsageRecord, "usage")):
            if data[rows]:
                await session.execute(insert(model), data[rows])
        data["services"] = services
        data["kpis"] = [(kpi.id, kpi.service_id, kpi.name, kpi.kind, kpi.direction,
                         kpi.target, kpi.warning_threshold, kpi.breach_threshold)
                        for kpi in kpis]
    return data


def _percent(part: Decimal, whole: Decimal) -> str | None:
    if not whole:
        return None
    return str((part / whole * 100).quantize(STEP, rounding=ROUND_HALF_UP))


def _status(direction: KpiDirection, value: Decimal | None,
            limits: tuple[Decimal, Decimal, Decimal]) -> str:
    if value is None:
        return "UNKNOWN"
    _, warning, breach = limits

    def past(threshold: Decimal) -> bool:
        return value < threshold if direction is KpiDirection.HIGHER_IS_BETTER \
            else value > threshold

    return "FAILING" if past(breach) else "AT_RISK" if past(warning) else "HEALTHY"


def _expected(data: dict[str, Any], service: int) -> dict[str, Any]:
    """The evidence worked out the plain way, row by row."""
    period = [m for m in MONTHS if PERIOD_FROM <= m <= PERIOD_TO]
    last = Period.parse(PERIOD_TO)
    trend = [str(last.shifted(-offset)) for offset in range(11, -1, -1)]
    cost: dict[str, Decimal] = defaultdict(Decimal)
    usage: dict[str, Decimal] = defaultdict(Decimal)
    users: dict[str, set[int]] = defaultdict(set)
    for row in data["costs"]:
        if row["service_id"] == service:
            cost[row["period"]] += row["amount"]
    for row in data["usage"]:
        if row["service_id"] == service:
            usage[row["period"]] += row["quantity"]
            users[row["period"]].add(row["customer_id"])
    total_cost = sum((cost[m] for m in period if m in cost), Decimal(0))
    total_budget = sum((row["amount"] for row in data["budgets"]
                        if row["service_id"] == service and row["period"] in period),
                       Decimal(0))
    kpis = []
    for kpi_id, owner, name, kind, direction, *limits in data["kpis"]:
        if owner != service:
            continue
        value: Decimal | None = None
        when: str | None = None
        if kind is KpiKind.MEASURED:
            mine = [row for row in data["measurements"] if row["kpi_id"] == kpi_id]
            if mine:
                newest = max(mine, key=lambda row: row["at"])
                value, when = newest["value"], newest["period"]
        else:  # cost per unit: the latest month with a cost and some usage
            for month in sorted(set(cost) & set(usage), reverse=True):
                if usage[month]:
                    value = (cost[month] / usage[month]).quantize(STEP, ROUND_HALF_UP)
                    when = month
                    break
        kpis.append({"name": name, "value": None if value is None else str(value),
                     "period": when, "status": _status(direction, value, tuple(limits))})
    return {
        "health": max((kpi["status"] for kpi in kpis), key=SEVERITY.index),
        "kpis": kpis,
        "cost": str(total_cost), "budget": str(total_budget),
        "budgetVariance": _percent(total_cost - total_budget, total_budget),
        "recovered": "0", "costRecovery": None if not total_cost else "0.0000",
        "usageTrend": [{"period": m, "quantity": str(usage[m]) if m in usage else "0",
                        "customers": len(users[m])} for m in trend],
        "openEngagements": 0,
        "customersAffected": len(set().union(*(users[m] for m in trend))),
    }


def _shown(evidence: dict[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in evidence.items() if key != "healthExplanation"}
    kept["kpis"] = [{key: kpi[key] for key in ("name", "value", "period", "status")}
                    for kpi in evidence["kpis"]]
    return kept


async def test_evidence_matches_a_row_by_row_computation(
        api: GraphQLClient, db: AsyncEngine, org: Org) -> None:
    data = await _seed(db, org, random.Random(16))
    manager = org.token(Role.PORTFOLIO_MANAGER)
    opened = await api.data(OPEN, {"input": {"title": "Checked", "periodFrom": PERIOD_FROM,
                                             "periodTo": PERIOD_TO}}, manager)
    review = opened["openPortfolioReview"]["review"]["id"]
    page = (await api.data(DECISION_PAGE, {"id": review}, manager))["portfolioReview"]
    assert len(page["items"]) == len(data["services"]) == 4
    by_name = {item["service"]["name"]: item["evidence"] for item in page["items"]}
    for number, service in enumerate(data["services"]):
        expected = _expected(data, service)
        shown = _shown(by_name[f"Checked {number}"])
        # Money and quantities print as stored (four places) or "0" without any.
        for key in ("cost", "budget", "recovered"):
            assert Decimal(shown[key]) == Decimal(expected[key]), (number, key)
            shown[key] = expected[key]
        for month, want in zip(shown["usageTrend"], expected["usageTrend"], strict=True):
            assert Decimal(month["quantity"]) == Decimal(want["quantity"]), month
            month["quantity"] = want["quantity"]
        assert shown == expected, number
