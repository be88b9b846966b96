"""Portfolio reviews through GraphQL: evidence read in a fixed number of statements,
votes judged by the organisation's approval rules, decisions carried out, refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry import relay

from spm_api.app import create_app
from spm_api.db.engine import create_session_factory
from spm_api.models import Kpi, Measurement, Service
from spm_api.plugins.host import PluginHost
from spm_api.settings import Settings
from spm_api.vocabulary.enums import InvestmentCategory, KpiDirection, KpiKind, Role
from spm_api.vocabulary.stages import Stage
from tests.support import GraphQLClient, Org, Portfolio, add_decision_makers, serve_api
from tests.test_approval import CONFIGURE, SET_RULES
from tests.test_batching import count_statements

OPEN = """
mutation($input: OpenPortfolioReviewInput!) {
  openPortfolioReview(input: $input) {
    review { id state items { service { id } recommendation } }
    errors { code field message }
  }
}"""

RECOMMEND = """
mutation($input: RecommendInput!) {
  recommend(input: $input) { review { id } errors { code field message } }
}"""

VOTE = """
mutation($input: VoteOnRecommendationInput!) {
  voteOnRecommendation(input: $input) { review { id } errors { code field message } }
}"""

DECIDE = """
mutation($id: ID!) {
  decideReview(input: {reviewId: $id}) {
    review { state decidedAt items {
      service { id name stage } recommendation decision explanation
      successor { id } proposal { id stage }
    } }
    errors { code field message }
  }
}"""

REVIEW = """
query($id: ID!) {
  portfolioReview(id: $id) {
    title state periodFrom periodTo openedBy { name }
    items {
      service { name } recommendation decision ruling
      evidence {
        health kpis { name target value status }
        cost budget budgetVariance recovered costRecovery
        usageTrend { period quantity customers }
        openEngagements customersAffected
      }
    }
  }
}"""


#: The page a decision maker reads: every item with its votes, ruling and the services
#: it names (answered by the planned read path; the suite's check mode compares it with
#: the executor's answer byte for byte).
DECISION_PAGE = """
query($id: ID!) {
  portfolioReview(id: $id) {
    id title state openedAt decidedAt openedBy { name } __typename
    items {
      __typename recommendation rationale plannedEndDate decision ruling explanation
      votes { decision comment castAt voter { id name } }
      service { id name stage successor { id name } }
      successor { id name stage }
      proposal { id name stage }
      evidence {
        health healthExplanation
        kpis { name unit target value period status explanation }
        cost budget budgetVariance recovered costRecovery
        usageTrend { period quantity customers }
        openEngagements customersAffected
      }
    }
  }
}"""

SUCCESSOR = "query($id: ID!) { service(id: $id) { name successor { id name } } }"

REVIEWS = """
query($first: Int, $after: String) {
  portfolioReviews(first: $first, after: $after) {
    totalCount
    edges { cursor node { id title } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}"""


def _gid(kind: str, pk: int) -> str:
    return str(relay.GlobalID(kind, str(pk)))


async def _seed_live(db: AsyncEngine, org: Org, count: int) -> None:
    """``count`` live services, each with two measured KPIs with a year of values."""
    now = datetime.now(UTC)
    async with create_session_factory(db)() as session, session.begin():
        await session.execute(insert(Service), [
            {"organisation_id": org.id, "name": f"Live {n:04d}", "summary": "",
             "objectives": "", "investment_category": InvestmentCategory.RUN,
             "stage": Stage.LIVE, "version": 1, "created_at": now, "updated_at": now}
            for n in range(count)])
        ids = list(await session.scalars(select(Service.id).where(
            Service.organisation_id == org.id)))
        await session.execute(insert(Kpi), [
            {"organisation_id": org.id, "service_id": sid, "name": f"KPI {i}", "unit": "",
             "kind": KpiKind.MEASURED, "direction": KpiDirection.HIGHER_IS_BETTER,
             "target": Decimal(99), "warning_threshold": Decimal(98),
             "breach_threshold": Decimal(97), "source": None, "source_query": "",
             "source_settings": {}, "created_by_id": org.person_ids[Role.ADMIN],
             "created_at": now, "updated_at": now} for sid in ids for i in range(2)])
        kpis = list(await session.scalars(select(Kpi.id).where(
            Kpi.organisation_id == org.id)))
        await session.execute(insert(Measurement), [
            {"organisation_id": org.id, "kpi_id": kpi, "period": f"2026-{m:02d}",
             "at": datetime(2026, m, 1, tzinfo=UTC), "value": Decimal(98),
             "source": "test", "recorded_at": now} for kpi in kpis for m in range(1, 13)])


async def _statements_for_review(api: GraphQLClient, db: AsyncEngine, org: Org
                                 ) -> tuple[int, int]:
    manager = org.token(Role.PORTFOLIO_MANAGER)
    opened = await api.data(OPEN, {"input": {"title": "Yearly", "periodFrom": "2026-01",
                                             "periodTo": "2026-12"}}, manager)
    payload = opened["openPortfolioReview"]
    assert payload["errors"] == []
    with count_statements(db) as statements:
        data = await api.data(REVIEW, {"id": payload["review"]["id"]}, manager)
    items = data["portfolioReview"]["items"]
    assert all(item["evidence"]["health"] is not None for item in items)
    assert all([kpi["value"] for kpi in item["evidence"]["kpis"]] == ["98.0000", "98.0000"]
               for item in items), items[0]["evidence"]
    assert all(len(item["evidence"]["usageTrend"]) == 12 for item in items)
    return len(statements), len(items)


async def test_evidence_costs_the_same_statements_for_200_services_as_for_5(
        api: GraphQLClient, db: AsyncEngine, org: Org, other_org: Org) -> None:
    await _seed_live(db, org, 5)
    few, few_items = await _statements_for_review(api, db, org)
    await _seed_live(db, other_org, 200)
    many, many_items = await _statements_for_review(api, db, other_org)
    assert (few_items, many_items) == (5, 200)
    assert many == few, (few, many)


@pytest.fixture
async def extended(db: AsyncEngine, settings: Settings) -> AsyncIterator[GraphQLClient]:
    host = PluginHost.load(frozenset({"supermajority"}), timeout=2.0)
    try:
        async with serve_api(create_app(settings, engine=db, plugins=host)) as client:
            yield client
    finally:
        host.close()


async def _recommend(api: GraphQLClient, org: Org, review: str, service: str,
                     recommendation: str, **extra: Any) -> list[dict[str, Any]]:
    data = await api.data(RECOMMEND, {"input": {
        "reviewId": review, "serviceId": service, "recommendation": recommendation,
        **extra}}, org.token(Role.PORTFOLIO_MANAGER))
    errors: list[dict[str, Any]] = data["recommend"]["errors"]
    return errors


async def test_decisions_follow_the_supermajority_rule_and_become_actions(
        extended: GraphQLClient, db: AsyncEngine, org: Org) -> None:
    portfolio = Portfolio(extended, org)
    old, new, grow, weak = [await portfolio.live(name)
                            for name in ("Old Mail", "New Mail", "Grow", "Weak")]
    deciders = await add_decision_makers(db, org, 3)
    admin = org.token(Role.ADMIN)
    await extended.data(CONFIGURE, {"plugin": "supermajority",
                                    "settings": {"threshold": "3/4"}}, admin)
    chosen = await extended.data(SET_RULES, {"rules": ["supermajority"]}, admin)
    assert chosen["setApprovalRules"]["errors"] == []
    opened = await extended.data(OPEN, {"input": {
        "title": "2026", "periodFrom": "2026-01", "periodTo": "2026-12",
        "serviceIds": [old, new, grow, weak]}}, org.token(Role.PORTFOLIO_MANAGER))
    review = opened["openPortfolioReview"]["review"]["id"]
    assert await _recommend(extended, org, review, old, "RETIRE",
                            plannedEndDate="2027-06-30", rationale="replaced") == []
    assert await _recommend(extended, org, review, new, "REPLACE",
                            successorServiceId=grow) == []
    assert await _recommend(extended, org, review, grow, "INVEST") == []
    assert await _recommend(extended, org, review, weak, "RETIRE",
                            plannedEndDate="2027-06-30") == []
    for service, decisions in ((old, ["APPROVE"] * 3), (new, ["APPROVE"] * 3),
                               (grow, ["APPROVE"] * 3),
                               # 2 of 3: a simple majority, not the 3/4 configured
                               (weak, ["APPROVE", "APPROVE", "REJECT"])):
        for token, decision in zip(deciders, decisions, strict=True):
            voted = await extended.data(VOTE, {"input": {
                "reviewId": review, "serviceId": service, "decision": decision}}, token)
            assert voted["voteOnRecommendation"]["errors"] == []
    before = (await extended.data(DECISION_PAGE, {"id": review}, deciders[0])
              )["portfolioReview"]
    shown = {item["service"]["id"]: item for item in before["items"]}
    assert [vote["decision"] for vote in shown[weak]["votes"]] == [
        "APPROVE", "APPROVE", "REJECT"]
    assert shown[weak]["ruling"] == "REJECTED"
    assert shown[old]["ruling"] == "APPROVED"
    assert shown[new]["successor"]["id"] == grow
    decided = await extended.data(DECIDE, {"id": review}, org.token(Role.PORTFOLIO_MANAGER))
    payload = decided["decideReview"]
    assert payload["errors"] == []
    assert payload["review"]["state"] == "DECIDED"
    items = {item["service"]["id"]: item for item in payload["review"]["items"]}
    assert items[old]["decision"] == "APPROVED"
    assert items[old]["service"]["stage"] == "RETIRING"
    assert items[new]["successor"] == {"id": grow}
    assert items[grow]["proposal"]["stage"] == "DEFINITION"
    assert items[weak]["decision"] == "REJECTED"
    assert items[weak]["service"]["stage"] == "LIVE"
    assert "supermajority" in items[weak]["explanation"]

    # The replaced service names its successor; the others none.
    manager = org.token(Role.PORTFOLIO_MANAGER)
    replaced = await extended.data(SUCCESSOR, {"id": new}, manager)
    assert replaced["service"] == {"name": "New Mail",
                                   "successor": {"id": grow, "name": "Grow"}}
    assert (await extended.data(SUCCESSOR, {"id": old}, manager))["service"][
        "successor"] is None
    after = (await extended.data(DECISION_PAGE, {"id": review}, deciders[1])
             )["portfolioReview"]
    assert after["state"] == "DECIDED"
    shown = {item["service"]["id"]: item for item in after["items"]}
    assert shown[new]["service"]["successor"] == {"id": grow, "name": "Grow"}
    assert shown[grow]["proposal"]["stage"] == "DEFINITION"
    assert all(item["ruling"] is None for item in after["items"])
    assert shown[weak]["explanation"] == items[weak]["explanation"]

    again = await _recommend(extended, org, review, weak, "RETAIN")
    assert [error["code"] for error in again] == ["REVIEW_DECIDED"]
    redecided = await extended.data(DECIDE, {"id": review}, org.token(Role.ADMIN))
    assert [e["code"] for e in redecided["decideReview"]["errors"]] == ["REVIEW_DECIDED"]


async def test_refusals_carry_codes(api: GraphQLClient, db: AsyncEngine, org: Org,
                                    portfolio: Portfolio) -> None:
    manager = org.token(Role.PORTFOLIO_MANAGER)
    live = await portfolio.live("Live one")
    pipeline = await portfolio.create("Still a proposal")
    unknown = _gid("Service", 999_999)
    refused = await api.data(OPEN, {"input": {
        "title": "R", "periodFrom": "2026-01", "periodTo": "2026-12",
        "serviceIds": [live, pipeline["id"], unknown]}}, manager)
    errors = refused["openPortfolioReview"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [
        ("NOT_IN_CATALOGUE", "serviceIds.1"), ("NOT_FOUND", "serviceIds.2")]

    contributor = await api.data(OPEN, {"input": {
        "title": "R", "periodFrom": "2026-01", "periodTo": "2026-12"}},
        org.token(Role.CONTRIBUTOR))
    assert [e["code"] for e in contributor["openPortfolioReview"]["errors"]] == ["FORBIDDEN"]

    opened = await api.data(OPEN, {"input": {
        "title": "R", "periodFrom": "2026-01", "periodTo": "2026-12"}}, manager)
    review = opened["openPortfolioReview"]["review"]["id"]
    assert [e["code"] for e in await _recommend(api, org, review, unknown, "RETAIN")] == [
        "NOT_FOUND"]
    assert [e["field"] for e in await _recommend(api, org, review, live, "REPLACE")] == [
        "successorServiceId"]
    assert [e["field"] for e in await _recommend(api, org, review, live, "RETIRE")] == [
        "plannedEndDate"]
    viewer = await api.data(DECIDE, {"id": review}, org.token(Role.VIEWER))
    assert [e["code"] for e in viewer["decideReview"]["errors"]] == ["FORBIDDEN"]
    voter = await api.data(VOTE, {"input": {"reviewId": review, "serviceId": live,
                                            "decision": "APPROVE"}}, manager)
    assert [e["code"] for e in voter["voteOnRecommendation"]["errors"]] == ["FORBIDDEN"]


async def test_reviews_are_listed_newest_first_a_page_at_a_time(
        api: GraphQLClient, org: Org, other_org: Org, portfolio: Portfolio) -> None:
    manager = org.token(Role.PORTFOLIO_MANAGER)
    await portfolio.live("Reviewed")
    for title in ("First", "Second", "Third"):
        opened = await api.data(OPEN, {"input": {
            "title": title, "periodFrom": "2026-01", "periodTo": "2026-12"}}, manager)
        assert opened["openPortfolioReview"]["errors"] == []
    page = (await api.data(REVIEWS, {"first": 2}, manager))["portfolioReviews"]
    assert page["totalCount"] == 3
    assert [edge["node"]["title"] for edge in page["edges"]] == ["Third", "Second"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = (await api.data(REVIEWS, {"first": 2, "after": page["pageInfo"]["endCursor"]},
                           manager))["portfolioReviews"]
    assert [edge["node"]["title"] for edge in rest["edges"]] == ["First"]
    assert rest["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True,
                                "endCursor": rest["edges"][-1]["cursor"]}
    elsewhere = (await api.data(REVIEWS, {}, other_org.token(Role.VIEWER)))["portfolioReviews"]
    assert (elsewhere["totalCount"], elsewhere["edges"]) == (0, [])
