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
