"""Strategy alignment: objectives, services aligned to them with weights, the target
mix and the investment mix report; risk and alignment in the pipeline ranking,
explained per factor, in a fixed number of statements."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.vocabulary.enums import Role
from tests.support import Org, Portfolio
from tests.test_batching import count_statements

CREATE = """
mutation($input: CreateStrategicObjectiveInput!) {
  createStrategicObjective(input: $input) {
    objective { id name description } errors { code field message } } }"""
UPDATE = """
mutation($input: UpdateStrategicObjectiveInput!) {
  updateStrategicObjective(input: $input) {
    objective { id name description } errors { code field message } } }"""
ALIGN = """
mutation($input: AlignServiceInput!) {
  alignService(input: $input) {
    alignment { weight objective { name } service { name } }
    service { alignments { weight objective { name } } }
    errors { code field message } } }"""
UNALIGN = """
mutation($input: UnalignServiceInput!) {
  unalignService(input: $input) { service { alignments { weight } }
                                  errors { code field message } } }"""
TARGET = """
mutation($input: SetTargetMixInput!) {
  setTargetMix(input: $input) { strategy { targetMix { run grow transform } }
                                errors { code field message } } }"""
STRATEGY = """{ strategy { discountRate targetMix { run grow transform }
  objectives { name description alignments { weight service { name } } } } }"""
MIX = """
query($fy: Int!) { reports { investmentMix(fiscalYear: $fy) {
  fiscalYear
  categories { investmentCategory budget { amount } actual { amount } planned { amount }
               actualShare budgetShare targetShare gap }
  objectives { objective { name } services budget { amount } actual { amount }
               planned { amount } invested }
  objectivesWithoutInvestment { name } } } }"""
RANKING = """{ reports { pipelineRanking {
  rank score explanation riskExposure alignment
  factors { name part weight contribution explanation }
  service { name } } } }"""
RECORD_COST = """
mutation($input: RecordCostInput!) { recordCost(input: $input) { errors { code field } } }"""
SET_BUDGET = """
mutation($input: SetBudgetLineInput!) { setBudgetLine(input: $input) { errors { code } } }"""
SET_CASE = """
mutation($input: SetBusinessCaseInput!) { setBusinessCase(input: $input) { errors { code } } }"""
ADD_RISK = """
mutation($input: AddRiskInput!) { addRisk(input: $input) { errors { code field } } }"""


def eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(error["code"], error["field"]) for error in payload["errors"]]


class Strategy:
    def __init__(self, portfolio: Portfolio, org: Org) -> None:
        self.portfolio, self.api, self.org = portfolio, portfolio.api, org

    async def call(self, query: str, variables: dict[str, Any], field: str,
                   role: Role = Role.PORTFOLIO_MANAGER) -> dict[str, Any]:
        data = await self.api.data(query, variables, self.org.token(role))
        payload: dict[str, Any] = data[field]
        return payload

    async def ok(self, query: str, variables: dict[str, Any], field: str,
                 role: Role = Role.PORTFOLIO_MANAGER) -> dict[str, Any]:
        payload = await self.call(query, variables, field, role)
        assert payload["errors"] == [], payload["errors"]
        return payload

    async def objective(self, name: str, description: str = "") -> str:
        payload = await self.ok(CREATE, {"input": {"name": name, "description": description}},
                                "createStrategicObjective")
        objective_id: str = payload["objective"]["id"]
        return objective_id

    async def align(self, service: str, objective: str, weight: str) -> dict[str, Any]:
        return await self.call(ALIGN, {"input": {"serviceId": service,
                                                 "objectiveId": objective,
                                                 "weight": weight}}, "alignService")

    async def service(self, name: str, category: str = "RUN") -> str:
        service_id: str = (await self.portfolio.create(name, investmentCategory=category))["id"]
        return service_id

    async def cost(self, service: str, day: str, amount: str) -> None:
        await self.ok(RECORD_COST, {"input": {"serviceId": service, "bookedOn": day,
                                              "category": "labour", "amount": eur(amount)}},
                      "recordCost", Role.FINANCE)

    async def risk(self, service: str, likelihood: int, impact: int) -> None:
        await self.ok(ADD_RISK, {"input": {"serviceId": service, "description": "a risk",
                                           "likelihood": likelihood, "impact": impact}},
                      "addRisk")


async def test_objectives_are_created_updated_listed_and_aligned(portfolio: Portfolio,
                                                                  org: Org,
                                                                  other_org: Org) -> None:
    strategy = Strategy(portfolio, org)
    cloud = await strategy.objective("Cloud first", "Run nothing on premises by 2030")
    service = await strategy.service("Data Platform")
    aligned = await strategy.align(service, cloud, "0.6")
    assert aligned["errors"] == []
    assert aligned["alignment"] == {"weight": "0.6000", "objective": {"name": "Cloud first"},
                                    "service": {"name": "Data Platform"}}
    # Aligning again changes the weight, it does not add a second alignment.
    again = await strategy.align(service, cloud, "0.8")
    assert again["service"]["alignments"] == [{"weight": "0.8000",
                                               "objective": {"name": "Cloud first"}}]
    renamed = await strategy.ok(UPDATE, {"input": {"objectiveId": cloud,
                                                   "name": "Cloud by default"}},
                                "updateStrategicObjective")
    assert renamed["objective"]["description"] == "Run nothing on premises by 2030"
    await strategy.objective("Self service")
    listed = await portfolio.api.data(STRATEGY, None, org.token(Role.VIEWER))
    assert listed["strategy"]["objectives"] == [
        {"name": "Cloud by default", "description": "Run nothing on premises by 2030",
         "alignments": [{"weight": "0.8000", "service": {"name": "Data Platform"}}]},
        {"name": "Self service", "description": "", "alignments": []}]
    removed = await strategy.call(UNALIGN, {"input": {"serviceId": service,
                                                      "objectiveId": cloud}},
                                  "unalignService")
    assert removed == {"service": {"alignments": []}, "errors": []}
    # Another organisation sees none of it.
    theirs = await portfolio.api.data(STRATEGY, None, other_org.token(Role.ADMIN))
    assert theirs["strategy"]["objectives"] == []


async def test_refusals_have_codes(portfolio: Portfolio, org: Org, other_org: Org) -> None:
    strategy = Strategy(portfolio, org)
    cloud = await strategy.objective("Cloud first")
    service = await strategy.service("Data Platform")
    duplicate = await strategy.call(CREATE, {"input": {"name": "Cloud first"}},
                                    "createStrategicObjective")
    assert codes(duplicate) == [("CONFLICT", "name")]
    blank = await strategy.call(CREATE, {"input": {"name": " "}}, "createStrategicObjective")
    assert codes(blank) == [("VALIDATION", "name")]
    contributor = await strategy.call(CREATE, {"input": {"name": "Mine"}},
                                      "createStrategicObjective", Role.CONTRIBUTOR)
    assert [e["code"] for e in contributor["errors"]] == ["FORBIDDEN"]
    for weight in ("0", "1.5", "-0.2", "lots"):
        assert codes(await strategy.align(service, cloud, weight)) == [
            ("VALIDATION", "weight")], weight
    theirs = await Strategy(portfolio, other_org).call(
        ALIGN, {"input": {"serviceId": service, "objectiveId": cloud, "weight": "1"}},
        "alignService", Role.ADMIN)
    assert codes(theirs) == [("NOT_FOUND", "serviceId")]
    not_aligned = await strategy.call(UNALIGN, {"input": {"serviceId": service,
                                                          "objectiveId": cloud}},
                                      "unalignService")
    assert codes(not_aligned) == [("NOT_FOUND", "objectiveId")]
    short = await strategy.call(TARGET, {"input": {"run": "0.5", "grow": "0.3",
                                                   "transform": "0.1"}}, "setTargetMix")
    assert short["errors"] == [{"code": "VALIDATION", "field": "transform",
                                "message": "the shares add up to 0.9000, not 1"}]
    bad = await strategy.call(TARGET, {"input": {"run": "x", "grow": "2", "transform": "0"}},
                              "setTargetMix")
    assert codes(bad) == [("VALIDATION", "run"), ("VALIDATION", "grow")]
    finance = await strategy.call(TARGET, {"input": {"run": "1", "grow": "0",
                                                     "transform": "0"}}, "setTargetMix",
                                  Role.FINANCE)
    assert [e["code"] for e in finance["errors"]] == ["FORBIDDEN"]
    unset = await portfolio.api.data(STRATEGY, None, org.token(Role.VIEWER))
    assert unset["strategy"]["targetMix"] is None
    assert unset["strategy"]["objectives"][0]["alignments"] == []


async def test_the_investment_mix_against_the_target_and_objectives_without_money(
        portfolio: Portfolio, org: Org) -> None:
    strategy = Strategy(portfolio, org)
    payroll = await strategy.service("Payroll", "RUN")
    analytics = await strategy.service("Analytics", "GROW")
    lab = await strategy.service("Lab", "TRANSFORM")
    portal = await strategy.service("Portal", "GROW")
    await strategy.cost(payroll, "2027-02-10", "600.00")
    await strategy.cost(analytics, "2027-05-01", "200.00")
    await strategy.cost(analytics, "2027-11-30", "100.00")
    await strategy.cost(lab, "2027-12-31", "100.00")
    await strategy.cost(portal, "2026-12-31", "999.00")  # another fiscal year
    await strategy.ok(SET_BUDGET, {"input": {"serviceId": payroll, "period": "2027-01",
                                             "category": "labour", "amount": eur("1000.00")}},
                      "setBudgetLine", Role.FINANCE)
    await strategy.ok(SET_CASE, {"input": {"serviceId": lab, "years": [{
        "fiscalYear": 2027, "investment": eur("50.00"), "runningCost": eur("5.00"),
        "benefit": eur("0.00")}]}}, "setBusinessCase")
    target = await strategy.ok(TARGET, {"input": {"run": "0.5", "grow": "0.3",
                                                  "transform": "0.2"}}, "setTargetMix")
    assert target["strategy"]["targetMix"] == {"run": "0.5000", "grow": "0.3000",
                                               "transform": "0.2000"}
    cheaper = await strategy.objective("Cheaper operations")
    await strategy.objective("Sustainability")
    open_data = await strategy.objective("Open data")
    innovation = await strategy.objective("Innovation")
    assert (await strategy.align(payroll, cheaper, "1"))["errors"] == []
    assert (await strategy.align(analytics, cheaper, "0.5"))["errors"] == []
    assert (await strategy.align(portal, open_data, "1"))["errors"] == []
    assert (await strategy.align(lab, innovation, "0.4"))["errors"] == []

    found = (await portfolio.api.data(MIX, {"fy": 2027}, org.token(Role.VIEWER)))[
        "reports"]["investmentMix"]
    # Actual cost 600 + 300 + 100 = 1000: RUN 0.6 (target 0.5), GROW 0.3 (0.3), TRANSFORM
    # 0.1 (0.2). The only budget is Payroll's: RUN has all of it.
    assert found["categories"] == [
        {"investmentCategory": "RUN", "budget": {"amount": "1000.00"},
         "actual": {"amount": "600.00"}, "planned": {"amount": "0.00"},
         "actualShare": "0.6000", "budgetShare": "1.0000", "targetShare": "0.5000",
         "gap": "0.1000"},
        {"investmentCategory": "GROW", "budget": {"amount": "0.00"},
         "actual": {"amount": "300.00"}, "planned": {"amount": "0.00"},
         "actualShare": "0.3000", "budgetShare": "0.0000", "targetShare": "0.3000",
         "gap": "0.0000"},
        {"investmentCategory": "TRANSFORM", "budget": {"amount": "0.00"},
         "actual": {"amount": "100.00"}, "planned": {"amount": "55.00"},
         "actualShare": "0.1000", "budgetShare": "0.0000", "targetShare": "0.2000",
         "gap": "-0.1000"}]
    by_name = {row["objective"]["name"]: row for row in found["objectives"]}
    assert list(by_name) == ["Cheaper operations", "Innovation", "Open data",
                             "Sustainability"]
    assert by_name["Cheaper operations"] == {
        "objective": {"name": "Cheaper operations"}, "services": 2,
        "budget": {"amount": "1000.00"}, "actual": {"amount": "900.00"},
        "planned": {"amount": "0.00"}, "invested": True}
    assert by_name["Innovation"]["planned"] == {"amount": "55.00"}
    # Open data's only service spent in FY2026; nothing is aligned to Sustainability.
    assert by_name["Open data"]["services"] == 1 and not by_name["Open data"]["invested"]
    assert found["objectivesWithoutInvestment"] == [{"name": "Open data"},
                                                    {"name": "Sustainability"}]
    # A year with nothing booked has no shares to give.
    empty = (await portfolio.api.data(MIX, {"fy": 2030}, org.token(Role.VIEWER)))[
        "reports"]["investmentMix"]
    assert {row["actualShare"] for row in empty["categories"]} == {None}
    assert len(empty["objectivesWithoutInvestment"]) == 4


async def test_risk_and_alignment_rank_the_pipeline_explained_per_factor(
        portfolio: Portfolio, org: Org, db: AsyncEngine) -> None:
    strategy = Strategy(portfolio, org)
    steady = await strategy.service("Steady")
    risky = await strategy.service("Risky")
    cloud = await strategy.objective("Cloud first")
    await strategy.align(steady, cloud, "0.5")
    await strategy.risk(risky, 4, 5)
    await strategy.risk(risky, 1, 2)

    async def ranking() -> list[dict[str, Any]]:
        data = await portfolio.api.data(RANKING, None, org.token(Role.VIEWER))
        rows: list[dict[str, Any]] = data["reports"]["pipelineRanking"]
        return rows

    with count_statements(db) as few:
        rows = await ranking()
    assert [row["service"]["name"] for row in rows] == ["Steady", "Risky"]
    first, second = rows
    # No benefit/cost known (0), RUN 0.4, no inputs 0.5, no risks 1, aligned 0.5:
    # 100 * (0 + 0.08 + 0.15 + 0.2 + 0.15) / 1.5 = 58 / 1.5 = 38.667 → 38.67.
    assert (first["score"], first["riskExposure"], first["alignment"]) == ("38.67", 0,
                                                                          "0.5000")
    # Exposure 20 + 2 = 22 → 1 - 22 / 25 = 0.12; not aligned:
    # 100 * (0 + 0.08 + 0.15 + 0.024 + 0) / 1.5 = 25.4 / 1.5 = 16.933 → 16.93.
    assert (second["score"], second["riskExposure"], second["alignment"]) == ("16.93", 22,
                                                                             "0.0000")
    assert "risk exposure 22 of 2 risks (0.12)" in second["explanation"]
    assert {f["name"]: (f["part"], f["contribution"]) for f in second["factors"]} == {
        "benefit": ("0.0000", "0.00"), "category": ("0.4000", "5.33"),
        "support": ("0.5000", "10.00"), "risk": ("0.1200", "1.60"),
        "alignment": ("0.0000", "0.00")}
    assert {f["name"]: f["explanation"] for f in first["factors"]}["alignment"] == (
        "aligned to 1 objective, weight 0.50")
    # More services, each with risks and alignments: the same number of statements.
    for number in range(4):
        more = await strategy.service(f"More {number}")
        await strategy.risk(more, 2, 2)
        await strategy.align(more, cloud, "0.25")
    with count_statements(db) as many:
        assert len(await ranking()) == 6
    assert len(many) == len(few)


async def test_who_may_do_what(portfolio: Portfolio, org: Org) -> None:
    """The role matrix of docs/architecture.md, seen from the payloads."""
    strategy = Strategy(portfolio, org)
    service = await strategy.service("Data Platform")
    year = {"fiscalYear": 2027, "investment": eur("1.00"), "runningCost": eur("0.00"),
            "benefit": eur("0.00")}
    attempts: dict[str, tuple[str, dict[str, Any], str]] = {
        "case": (SET_CASE, {"input": {"serviceId": service, "years": [year]}},
                 "setBusinessCase"),
        "risk": (ADD_RISK, {"input": {"serviceId": service, "description": "r",
                                      "likelihood": 1, "impact": 1}}, "addRisk"),
        "objective": (CREATE, {"input": {"name": "?"}}, "createStrategicObjective"),
        "target": (TARGET, {"input": {"run": "1", "grow": "0", "transform": "0"}},
                   "setTargetMix"),
        "rate": ("""mutation { setDiscountRate(input: {rate: "0.07"}) {
                    errors { code field } } }""", {}, "setDiscountRate"),
    }
    allowed: dict[str, set[Role]] = {name: set() for name in attempts}
    for role in Role:
        for name, (query, variables, field) in attempts.items():
            if name == "objective":
                variables = {"input": {"name": f"Objective of {role.value}"}}
            payload = await strategy.call(query, variables, field, role)
            if not payload["errors"]:
                allowed[name].add(role)
            else:
                assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"], payload
    editors = {Role.CONTRIBUTOR, Role.PORTFOLIO_MANAGER, Role.ADMIN}
    assert allowed == {
        "case": editors, "risk": editors,
        "objective": {Role.PORTFOLIO_MANAGER, Role.ADMIN},
        "target": {Role.PORTFOLIO_MANAGER, Role.ADMIN},
        "rate": {Role.FINANCE, Role.ADMIN},
    }
