"""What the demo organisation shows of stewarding live services, read through GraphQL as
its viewer: KPIs with twelve months of measurements on the live services (some
breaching), a retiring service, a withdrawn and a cancelled proposal, and one decided
portfolio review whose recommendations were voted on, decided by the approval rules and
carried out."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.db.engine import create_session_factory
from spm_api.demo import seed_demo
from spm_api.demo_stewardship import REVIEW_TITLE
from spm_api.plugins.host import PluginHost
from tests.support import GraphQLClient

CATALOGUE = """{
  services(first: 50) { edges { node {
    id name stage successor { id name }
    health { status }
    kpis { name kind latest { value } measurements(first: 50) { totalCount } }
  } } }
}"""

REVIEWS = """{
  portfolioReviews(first: 10) { totalCount edges { node {
    title state decidedAt
    items {
      service { id name } recommendation decision explanation
      successor { id }
      votes { decision voter { name } }
    }
  } } }
}"""


async def _viewer(db: AsyncEngine) -> str:
    async with create_session_factory(db)() as session, session.begin():
        demo = await seed_demo(session, PluginHost.load(frozenset()), services=14)
    return str(next(p["token"] for p in demo["people"] if p["roles"] == ["VIEWER"]))


async def test_the_demo_stewards_its_live_services(api: GraphQLClient, db: AsyncEngine
                                                  ) -> None:
    viewer = await _viewer(db)
    services = [edge["node"] for edge in
                (await api.data(CATALOGUE, token=viewer))["services"]["edges"]]
    by_stage: dict[str, list[dict[str, Any]]] = {}
    for service in services:
        by_stage.setdefault(service["stage"], []).append(service)
    assert {"RETIRING", "WITHDRAWN", "CANCELLED"} <= by_stage.keys()
    live = by_stage["LIVE"]
    assert live
    for service in live:
        measured = [kpi for kpi in service["kpis"] if kpi["kind"] == "MEASURED"]
        assert measured, service["name"]
        assert all(kpi["measurements"]["totalCount"] == 12 for kpi in measured)
        assert any(kpi["kind"] != "MEASURED" for kpi in service["kpis"])
    assert any(service["health"]["status"] == "FAILING" for service in live)

    listed = (await api.data(REVIEWS, token=viewer))["portfolioReviews"]
    [review] = [edge["node"] for edge in listed["edges"]]
    assert (review["title"], review["state"]) == (REVIEW_TITLE, "DECIDED")
    assert review["decidedAt"]
    items = {item["recommendation"]: item for item in review["items"]}
    replaced, merged = items["REPLACE"], items["RATIONALISE"]
    assert replaced["decision"] == "APPROVED"
    assert [vote["decision"] for vote in replaced["votes"]] == ["APPROVE"] * 3
    assert merged["decision"] == "REJECTED"
    assert sorted(vote["decision"] for vote in merged["votes"]) == [
        "APPROVE", "REJECT", "REJECT"]
    assert all(item["decision"] == "APPROVED" for item in review["items"]
               if item["recommendation"] == "RETAIN")
    # The approved REPLACE was carried out: the retiring service names its successor;
    # the rejected RATIONALISE left the other service as it was.
    by_id = {service["id"]: service for service in services}
    assert by_id[replaced["service"]["id"]]["stage"] == "RETIRING"
    assert by_id[replaced["service"]["id"]]["successor"] == {
        "id": replaced["successor"]["id"], "name": by_id[replaced["successor"]["id"]]["name"]}
    assert by_id[merged["service"]["id"]]["successor"] is None


STAKEHOLDER_PAGE = """{
  services(first: 50) { edges { node {
    name stage
    stakeholders { role person { name } }
    stakeholderReports { sequence stage affirmations { verdict } }
    affirmations { verdict comment resolution person { name } report { sequence } }
  } } }
}"""


async def test_the_demo_reports_back_to_stakeholders(api: GraphQLClient, db: AsyncEngine
                                                     ) -> None:
    """A chartered and a live service have stakeholders and a report each; the live one
    is affirmed, the chartered one was disputed with a reason and the dispute settled."""
    from spm_api.demo_reporting import DISPUTE_REASON, RESOLUTION

    viewer = await _viewer(db)
    services = [edge["node"] for edge in
                (await api.data(STAKEHOLDER_PAGE, token=viewer))["services"]["edges"]]
    reported = {service["stage"]: service for service in services
                if service["stakeholderReports"]}
    assert set(reported) == {"CHARTERED", "LIVE"}
    for service in reported.values():
        assert sorted(s["role"] for s in service["stakeholders"]) == [
            "FINANCE", "SPONSOR", "USER_REPRESENTATIVE"]
        assert [r["sequence"] for r in service["stakeholderReports"]] == [1]
        assert all(a["report"] == {"sequence": 1} for a in service["affirmations"])
    assert [a["verdict"] for a in reported["LIVE"]["affirmations"]] == ["AFFIRMED"] * 2
    dispute, affirmed = reported["CHARTERED"]["affirmations"]
    assert (dispute["verdict"], dispute["comment"], dispute["resolution"]) == (
        "DISPUTED", DISPUTE_REASON, RESOLUTION)
    assert affirmed["verdict"] == "AFFIRMED"


MARKET_PAGE = """{
  marketSpaces { name segments { name customers { name } needs { outcome } } }
  customerNeeds { outcome importance }
  unmetNeeds { outcome }
  offerings { name services { stage } serviceLevels { name target unit kpi { name } }
              priceList { model prices { name amount currency unit } }
              subscriptions { startPeriod endPeriod customer { name } } }
  catalogue { name }
}"""


async def test_the_demo_has_a_market_with_offerings_and_subscriptions(
        api: GraphQLClient, db: AsyncEngine) -> None:
    """Spaces with segments and customers in them, needs of which some are unmet, three
    priced offerings with service levels (KPIs among them), subscribers, and a catalogue
    of the offerings whose services are all live."""
    viewer = await _viewer(db)
    market = await api.data(MARKET_PAGE, token=viewer)
    assert [space["name"] for space in market["marketSpaces"]] == [
        "Digital business", "Workplace IT"]
    segments = {segment["name"]: segment for space in market["marketSpaces"]
                for segment in space["segments"]}
    assert segments["Office staff"]["customers"] == [{"name": "Human Resources"},
                                                     {"name": "Engineering"}]
    assert len(market["customerNeeds"]) == 6
    unmet = {need["outcome"] for need in market["unmetNeeds"]}
    assert 0 < len(unmet) < 6
    assert "Get help within four hours, any working day" not in unmet
    assert "Book meeting rooms from a phone" in unmet
    offerings = {offering["name"]: offering for offering in market["offerings"]}
    assert set(offerings) == {"Workplace essentials", "Field connectivity",
                              "Partner hosting"}
    assert all(offering["priceList"]["prices"] for offering in offerings.values())
    assert all(offering["serviceLevels"] for offering in offerings.values())
    assert any(level["kpi"] is not None for offering in offerings.values()
               for level in offering["serviceLevels"])
    assert offerings["Workplace essentials"]["priceList"]["prices"] == [
        {"name": "price", "amount": "450.00", "currency": "EUR", "unit": "month"}]
    assert sum(len(offering["subscriptions"]) for offering in offerings.values()) == 4
    catalogue = {offering["name"] for offering in market["catalogue"]}
    assert catalogue == {name for name, offering in offerings.items()
                         if all(service["stage"] == "LIVE"
                                for service in offering["services"])}
    assert "Field connectivity" not in catalogue
    assert {"Workplace essentials", "Partner hosting"} <= catalogue
