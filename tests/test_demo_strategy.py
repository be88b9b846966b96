"""The demo's strategy: business cases on its services, risks, objectives (one with no
investment), a target mix and realised benefits, all readable over GraphQL."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.db.engine import create_session_factory
from spm_api.demo import seed_demo
from spm_api.plugins.host import PluginHost
from tests.support import GraphQLClient
from tests.test_batching import count_statements

SERVICES = """{ services(first: 12) { edges { node { name stage estimatedCost { amount }
  businessCase { totalCostOfOwnership { amount } years { fiscalYear }
                 realisation { realised { amount } } }
  risks { exposure status } alignments { weight objective { name } } } } } }"""
MIX = """query($fy: Int!) { reports { investmentMix(fiscalYear: $fy) {
  categories { targetShare } objectivesWithoutInvestment { name } } } }"""
RANKING = "{ reports { pipelineRanking { factors { name } } } }"


async def test_the_demo_has_cases_risks_and_objectives(api: GraphQLClient,
                                                       db: AsyncEngine) -> None:
    async with create_session_factory(db)() as session, session.begin():
        demo = await seed_demo(session, PluginHost.load(frozenset()), services=12)
    token = demo["people"][1]["token"]  # the portfolio manager
    nodes = [edge["node"] for edge in (await api.data(SERVICES, token=token))[
        "services"]["edges"]]
    this_year = date.today().year  # the demo's fiscal year starts in January
    for node in nodes:
        case = node["businessCase"]
        # Every case spans three fiscal years and its TCO is the service's estimate.
        assert [y["fiscalYear"] for y in case["years"]] == [this_year, this_year + 1,
                                                            this_year + 2]
        assert case["totalCostOfOwnership"] == node["estimatedCost"]
    live = [node for node in nodes if node["stage"] == "LIVE"]
    assert live and all(node["businessCase"]["realisation"][0]["realised"] for node in live)
    assert any(node["risks"] for node in nodes)
    assert any(risk["status"] == "MITIGATED" for node in nodes for risk in node["risks"])
    assert any(node["alignments"] for node in nodes)
    mix = (await api.data(MIX, {"fy": this_year}, token=token))["reports"]["investmentMix"]
    assert [row["targetShare"] for row in mix["categories"]] == ["0.6000", "0.2500",
                                                                 "0.1500"]
    assert {"name": "Carbon neutral IT"} in mix["objectivesWithoutInvestment"]
    ranking = (await api.data(RANKING, token=token))["reports"]["pipelineRanking"]
    assert ranking and all(len(row["factors"]) == 5 for row in ranking)


STRATEGY_PAGE = """{ services(first: 50) { edges { node { name
  businessCase { npv { amount } paybackYears realisation { realised { amount } } }
  risks(includeClosed: true) { exposure owner { name } }
  riskExposure { total }
  alignments { weight objective { name alignments { weight } } }
  approval { status businessCase { npv { amount } } } } } } }"""


async def test_the_strategy_of_a_page_costs_the_same_statements_for_more_services(
        api: GraphQLClient, db: AsyncEngine) -> None:
    counts = []
    for services in (4, 24):
        async with create_session_factory(db)() as session, session.begin():
            demo = await seed_demo(session, PluginHost.load(frozenset()), services=services)
        with count_statements(db) as statements:
            page = await api.data(STRATEGY_PAGE, token=demo["people"][1]["token"])
        assert len(page["services"]["edges"]) == services
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
