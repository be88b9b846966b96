"""The finance reports on the planned read path answer exactly as the executor does.

The ``settings`` fixture runs every query through both paths (``planned_reads="check"``:
a difference is a ``PLAN_MISMATCH`` error). Here every grouping of ``budgetVsActual``
and each other planned report, with the services they name, is asked of the demo's
books, and shown to be the plan's to answer; what it does not know goes to the
executor, and refusals are worded by it alike.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.db.engine import create_session_factory
from spm_api.demo import seed_demo
from spm_api.graphql.core.documents import document_checks
from spm_api.graphql.planned import PlannedReads
from spm_api.graphql.schema import build_schema
from spm_api.plugins.host import PluginHost
from spm_api.settings import Settings
from tests.support import GraphQLClient

DIMENSIONS = ("SERVICE", "CATEGORY", "PERIOD", "FISCAL_QUARTER", "FISCAL_YEAR")
TIME = {"PERIOD", "FISCAL_QUARTER", "FISCAL_YEAR"}
SERVICE = "service { id name stage owner { name } budgetLines { period amount { amount } } }"
VARIANCE = ("category period budget { amount currency } actual { amount } "
            "variance { amount __typename } variancePercent")

BUDGET_VS_ACTUAL = f"""
query($from: String!, $to: String!, $groupBy: [ReportDimension!], $ids: [ID!]) {{
  reports {{ budgetVsActual(fromPeriod: $from, toPeriod: $to, groupBy: $groupBy,
                           serviceIds: $ids) {{
    __typename rows {{ {VARIANCE} {SERVICE} }} total {{ {VARIANCE} }} }} }}
}}"""

OTHER_REPORTS = """
query($from: String!, $to: String!, $year: Int!) {
  reports {
    __typename
    investment(fiscalYear: $year) {
      investmentCategory section services estimatedCost { amount currency }
      expectedBenefit { amount } budget { amount } actual { amount } }
    charges: chargesPerCustomer(fromPeriod: $from, toPeriod: $to) {
      billed { amount currency } notional { amount } statements }
    costRecovery(fromPeriod: $from, toPeriod: $to) {
      actualCost { amount } charged { amount } rate SERVICE }
  }
}""".replace("SERVICE", SERVICE)

WIDE = {"from": "2020-01", "to": "2029-12"}


@pytest.fixture
def planner(settings: Settings) -> PlannedReads:
    return PlannedReads(build_schema(settings), document_checks(settings),
                        settings.max_page_size, settings.document_cache_size, "on")


@pytest.fixture
async def finance_token(db: AsyncEngine, plugins: PluginHost) -> str:
    async with create_session_factory(db)() as session, session.begin():
        demo = await seed_demo(session, plugins, services=14)
    token: str = next(p["token"] for p in demo["people"] if "FINANCE" in p["roles"])
    return token


async def answered(api: GraphQLClient, query: str, variables: dict[str, Any],
                   token: str) -> dict[str, Any]:
    body = await api.execute(query, variables, token=token)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def test_every_grouping_of_budget_vs_actual_is_planned_and_answers_alike(
        api: GraphQLClient, planner: PlannedReads, finance_token: str) -> None:
    assert planner.plan(BUDGET_VS_ACTUAL, None) is not None
    groupings: list[list[str] | None] = [None] + [
        list(chosen) for size in range(len(DIMENSIONS) + 1)
        for chosen in combinations(DIMENSIONS, size)
        if len(set(chosen) & TIME) <= 1]  # one grain of time at a time
    shown_services = 0
    for group_by in groupings:
        data = await answered(api, BUDGET_VS_ACTUAL, {**WIDE, "groupBy": group_by},
                              finance_token)
        report = data["reports"]["budgetVsActual"]
        assert report["__typename"] == "BudgetVsActual"
        assert report["rows"], group_by
        shown_services += sum(row["service"] is not None for row in report["rows"])
    assert shown_services > 0  # grouped by service, the rows name their services


async def test_a_report_of_chosen_services_is_planned_and_answers_alike(
        api: GraphQLClient, finance_token: str) -> None:
    ids = [edge["node"]["id"] for edge in (await answered(
        api, "{ services(first: 3) { edges { node { id } } } }", {}, finance_token)
    )["services"]["edges"]]
    data = await answered(api, BUDGET_VS_ACTUAL, {**WIDE, "ids": ids[:2]}, finance_token)
    assert {row["service"]["id"] for row in data["reports"]["budgetVsActual"]["rows"]
            } <= set(ids[:2])


async def test_investment_charges_and_cost_recovery_are_planned_and_answer_alike(
        api: GraphQLClient, planner: PlannedReads, finance_token: str) -> None:
    assert planner.plan(OTHER_REPORTS, None) is not None
    for year in (2025, 2026, 2027):
        data = await answered(api, OTHER_REPORTS, {**WIDE, "year": year}, finance_token)
        assert data["reports"]["__typename"] == "Reports"
    assert data["reports"]["investment"]
    assert data["reports"]["costRecovery"]


async def test_what_the_plan_does_not_know_goes_to_the_executor(
        api: GraphQLClient, planner: PlannedReads, finance_token: str) -> None:
    with_customer = """{ reports { chargesPerCustomer(fromPeriod: "2020-01",
                                      toPeriod: "2029-12") { customer { name } } } }"""
    ranking = "{ reports { pipelineRanking { rank service { name } } } }"
    for query in (with_customer, ranking):
        assert planner.plan(query, None) is None
        await answered(api, query, {}, finance_token)


@pytest.mark.parametrize(("variables", "code"), [
    ({"from": "2026-05", "to": "2026-01"}, "VALIDATION"),
    ({"from": "2026-13", "to": "2027-01"}, "VALIDATION"),
    ({**WIDE, "groupBy": ["PERIOD", "FISCAL_YEAR"]}, "VALIDATION"),
    ({"from": "2010-01", "to": "2026-01"}, "VALIDATION"),
    ({**WIDE, "ids": ["UGVyc29uOjE="]}, "NOT_FOUND"),  # a Person's id
])
async def test_a_refused_report_is_refused_as_the_executor_words_it(
        api: GraphQLClient, finance_token: str, variables: dict[str, Any], code: str
        ) -> None:
    body = await api.execute(BUDGET_VS_ACTUAL, variables, token=finance_token)
    assert [error["extensions"]["code"] for error in body["errors"]] == [code]
    assert body["data"] is None
