"""The stage machine's edges and guards, driven over GraphQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.relay import GlobalID

from spm_api.models import Service
from spm_api.vocabulary.enums import Role
from spm_api.vocabulary.stages import Stage
from tests.support import UPDATE_SERVICE, Portfolio


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["errors"]]


async def test_new_service_starts_in_definition_with_history(portfolio: Portfolio) -> None:
    service = await portfolio.create()
    assert service["stage"] == "DEFINITION"
    assert service["section"] == "PIPELINE"
    data = await portfolio.api.data(
        "query($id: ID!) { service(id: $id) { stageChanges { fromStage toStage } } }",
        {"id": service["id"]}, portfolio.org.token(Role.VIEWER))
    assert data["service"]["stageChanges"] == [{"fromStage": None, "toStage": "DEFINITION"}]


async def test_analysis_needs_objectives_and_a_requirement(portfolio: Portfolio) -> None:
    service = await portfolio.create(objectives="")
    refused = await portfolio.transition(service["id"], "ANALYSIS")
    assert refused["service"] is None
    assert sorted(e["field"] for e in refused["errors"]) == ["objectives", "requirements"]
    assert set(codes(refused)) == {"GUARD_FAILED"}

    await portfolio.add_requirement(service["id"])
    refused = await portfolio.transition(service["id"], "ANALYSIS")
    assert [e["field"] for e in refused["errors"]] == ["objectives"]


async def test_full_path_to_approval_records_history(portfolio: Portfolio) -> None:
    service_id = await portfolio.in_approval()
    data = await portfolio.api.data(
        "query($id: ID!) { service(id: $id) { stage stageChanges { fromStage toStage } } }",
        {"id": service_id}, portfolio.org.token(Role.VIEWER))
    assert data["service"]["stage"] == "APPROVAL"
    assert [c["toStage"] for c in data["service"]["stageChanges"]] == [
        "DEFINITION", "ANALYSIS", "APPROVAL"]


async def test_approval_needs_every_requirement_judged(portfolio: Portfolio) -> None:
    service_id, requirements = await portfolio.in_analysis()
    await portfolio.add_input(service_id)
    await portfolio.assess(requirements[0])
    refused = await portfolio.transition(service_id, "APPROVAL")
    assert codes(refused) == ["GUARD_FAILED"]
    assert "1 requirement" in refused["errors"][0]["message"]


async def test_approval_needs_stakeholder_input(portfolio: Portfolio) -> None:
    service_id, requirements = await portfolio.in_analysis()
    for requirement_id in requirements:
        await portfolio.assess(requirement_id, "NOT_NECESSARY")
    refused = await portfolio.transition(service_id, "APPROVAL")
    assert [e["field"] for e in refused["errors"]] == ["stakeholderInputs"]


async def test_analysis_back_to_definition_needs_a_reason(portfolio: Portfolio) -> None:
    service_id, _ = await portfolio.in_analysis()
    refused = await portfolio.transition(service_id, "DEFINITION")
    assert codes(refused) == ["REASON_REQUIRED"]
    moved = await portfolio.transition(service_id, "DEFINITION", reason="scope unclear")
    assert moved["errors"] == []
    assert moved["service"]["stage"] == "DEFINITION"
    assert moved["stageChange"]["reason"] == "scope unclear"


async def test_leaving_approval_is_refused_until_votes_exist(portfolio: Portfolio) -> None:
    service_id = await portfolio.in_approval()
    for target in ("CHARTERED", "REJECTED"):
        refused = await portfolio.transition(service_id, target)
        assert codes(refused) == ["APPROVAL_REQUIRED"]


async def test_edges_not_in_the_machine_are_invalid(portfolio: Portfolio) -> None:
    service = await portfolio.create()
    for target in ("APPROVAL", "CHARTERED", "LIVE", "RETIRED", "REJECTED", "DEFINITION"):
        refused = await portfolio.transition(service["id"], target)
        assert codes(refused) == ["INVALID_TRANSITION"], target


async def test_refused_transition_writes_nothing(portfolio: Portfolio) -> None:
    service = await portfolio.create(objectives="")
    await portfolio.transition(service["id"], "ANALYSIS")
    data = await portfolio.api.data(
        "query($id: ID!) { service(id: $id) { stage version stageChanges { toStage } } }",
        {"id": service["id"]}, portfolio.org.token(Role.VIEWER))
    assert data["service"] == {"stage": "DEFINITION", "version": service["version"],
                               "stageChanges": [{"toStage": "DEFINITION"}]}


async def _force_stage(db: AsyncEngine, service_id: str, stage: Stage) -> None:
    """Put a service in a stage the approval round would reach (not built yet)."""
    pk = int(GlobalID.from_id(service_id).node_id)
    async with db.begin() as connection:
        await connection.execute(update(Service).where(Service.id == pk).values(stage=stage))


async def test_retiring_a_live_service_needs_a_reason(portfolio: Portfolio,
                                                      db: AsyncEngine) -> None:
    service = await portfolio.create()
    await _force_stage(db, service["id"], Stage.LIVE)
    end = "2999-12-31"
    refused = await portfolio.transition(service["id"], "RETIRING", reason="  ",
                                         planned_end_date=end)
    assert codes(refused) == ["REASON_REQUIRED"]
    retiring = await portfolio.transition(service["id"], "RETIRING", reason="replaced by SaaS",
                                          planned_end_date=end)
    assert retiring["errors"] == []
    assert retiring["service"]["section"] == "CATALOGUE"
    assert retiring["stageChange"]["fromStage"] == "LIVE"


async def test_chartered_service_goes_live_into_the_catalogue(portfolio: Portfolio,
                                                              db: AsyncEngine) -> None:
    service = await portfolio.create()
    await _force_stage(db, service["id"], Stage.CHARTERED)
    live = await portfolio.transition(service["id"], "LIVE")
    assert live["errors"] == []
    assert live["service"]["section"] == "CATALOGUE"


async def test_closed_services_accept_no_change(portfolio: Portfolio, db: AsyncEngine) -> None:
    service = await portfolio.create()
    await _force_stage(db, service["id"], Stage.REJECTED)
    refused = await portfolio.api.data(
        UPDATE_SERVICE, {"input": {"serviceId": service["id"], "name": "Renamed"}},
        portfolio.org.token(Role.PORTFOLIO_MANAGER))
    assert codes(refused["updateService"]) == ["STAGE_LOCKED"]
    refused = await portfolio.transition(service["id"], "ANALYSIS", reason="again")
    assert codes(refused) == ["INVALID_TRANSITION"]
    # Reworked, it is open to change again.
    reworked = await portfolio.transition(service["id"], "DEFINITION", reason="again")
    assert reworked["errors"] == []
    renamed = await portfolio.api.data(
        UPDATE_SERVICE, {"input": {"serviceId": service["id"], "name": "Renamed"}},
        portfolio.org.token(Role.PORTFOLIO_MANAGER))
    assert renamed["updateService"]["errors"] == []
