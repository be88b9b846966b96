"""Optimistic locking: every change bumps the version, and a stale version is refused."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.vocabulary.enums import Role
from tests.support import UPDATE_SERVICE, Portfolio

STATE = """
query($id: ID!) {
  service(id: $id) {
    name summary stage version
    stageChanges { toStage }
  }
}"""


def codes_and_fields(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(error["code"], error["field"]) for error in payload["errors"]]


async def state(portfolio: Portfolio, service_id: str) -> dict[str, Any]:
    data = await portfolio.api.data(STATE, {"id": service_id}, portfolio.org.token(Role.VIEWER))
    service: dict[str, Any] = data["service"]
    return service


async def update(portfolio: Portfolio, service_id: str, expected_version: int | None,
                 **fields: str) -> dict[str, Any]:
    data = await portfolio.api.data(UPDATE_SERVICE, {"input": {
        "serviceId": service_id, "expectedVersion": expected_version, **fields}},
        portfolio.org.token(Role.CONTRIBUTOR))
    payload: dict[str, Any] = data["updateService"]
    return payload


async def test_update_with_stale_version_is_a_conflict(portfolio: Portfolio) -> None:
    service = await portfolio.create()
    seen = service["version"]
    # Someone else changes the service after we read it.
    await portfolio.add_requirement(service["id"])
    before = await state(portfolio, service["id"])
    assert before["version"] > seen

    refused = await update(portfolio, service["id"], seen, name="Renamed", summary="stale")
    assert refused["service"] is None
    assert codes_and_fields(refused) == [("CONFLICT", "expectedVersion")]
    assert str(before["version"]) in refused["errors"][0]["message"]
    assert await state(portfolio, service["id"]) == before

    accepted = await update(portfolio, service["id"], before["version"], name="Renamed")
    assert accepted["errors"] == []
    assert accepted["service"]["name"] == "Renamed"
    assert accepted["service"]["version"] > before["version"]
    after = await state(portfolio, service["id"])
    assert after["name"] == "Renamed"
    assert after["version"] == accepted["service"]["version"]


async def test_update_with_a_future_version_is_a_conflict(portfolio: Portfolio) -> None:
    service = await portfolio.create()
    refused = await update(portfolio, service["id"], service["version"] + 1, name="Renamed")
    assert codes_and_fields(refused) == [("CONFLICT", "expectedVersion")]
    assert (await state(portfolio, service["id"]))["name"] == "Service Desk"


async def test_transition_with_stale_version_is_a_conflict(portfolio: Portfolio) -> None:
    service = await portfolio.create()
    await portfolio.add_requirement(service["id"])
    before = await state(portfolio, service["id"])

    refused = await portfolio.transition(service["id"], "ANALYSIS",
                                         expected_version=service["version"])
    assert refused["service"] is None
    assert refused["stageChange"] is None
    assert codes_and_fields(refused) == [("CONFLICT", "expectedVersion")]
    assert await state(portfolio, service["id"]) == before

    moved = await portfolio.transition(service["id"], "ANALYSIS",
                                       expected_version=before["version"])
    assert moved["errors"] == []
    assert moved["service"]["stage"] == "ANALYSIS"
    assert moved["service"]["version"] > before["version"]


async def test_version_grows_with_every_change(portfolio: Portfolio) -> None:
    service = await portfolio.create()
    versions = [service["version"]]

    async def current() -> int:
        version: int = (await state(portfolio, service["id"]))["version"]
        return version

    requirement_id = await portfolio.add_requirement(service["id"])
    versions.append(await current())
    await portfolio.add_input(service["id"])
    versions.append(await current())
    updated = await update(portfolio, service["id"], versions[-1], summary="more words")
    assert updated["errors"] == []
    assert updated["service"]["version"] == await current()
    versions.append(await current())
    moved = await portfolio.transition(service["id"], "ANALYSIS", expected_version=versions[-1])
    assert moved["errors"] == []
    assert moved["service"]["version"] == await current()
    versions.append(await current())
    await portfolio.assess(requirement_id)
    versions.append(await current())

    assert versions == sorted(set(versions)), versions  # strictly increasing


async def test_refused_changes_leave_the_version_alone(portfolio: Portfolio) -> None:
    service = await portfolio.create()
    before = await state(portfolio, service["id"])
    blank = await update(portfolio, service["id"], None, name="   ")
    assert codes_and_fields(blank) == [("VALIDATION", "name")]
    invalid = await portfolio.transition(service["id"], "APPROVAL")
    assert [e["code"] for e in invalid["errors"]] == ["INVALID_TRANSITION"]
    assert await state(portfolio, service["id"]) == before


async def test_concurrent_transitions_let_exactly_one_through(
    portfolio: Portfolio, db: AsyncEngine
) -> None:
    if db.url.get_backend_name() == "sqlite":
        pytest.skip("concurrent writers are exercised on PostgreSQL")
    service = await portfolio.create()
    await portfolio.add_requirement(service["id"])
    version = (await state(portfolio, service["id"]))["version"]

    results = await asyncio.gather(*(
        portfolio.transition(service["id"], "ANALYSIS", expected_version=version)
        for _ in range(10)))

    succeeded = [r for r in results if r["errors"] == []]
    refused = [r for r in results if r["errors"] != []]
    assert len(succeeded) == 1, results
    assert succeeded[0]["service"]["stage"] == "ANALYSIS"
    assert len(refused) == 9
    for payload in refused:
        assert [e["code"] for e in payload["errors"]] == ["CONFLICT"], payload["errors"]
        assert payload["service"] is None
    after = await state(portfolio, service["id"])
    assert after["stage"] == "ANALYSIS"
    assert [c["toStage"] for c in after["stageChanges"]] == ["DEFINITION", "ANALYSIS"]
    assert after["version"] == succeeded[0]["service"]["version"]


async def test_concurrent_updates_let_exactly_one_through(
    portfolio: Portfolio, db: AsyncEngine
) -> None:
    if db.url.get_backend_name() == "sqlite":
        pytest.skip("concurrent writers are exercised on PostgreSQL")
    service = await portfolio.create()
    results = await asyncio.gather(*(
        update(portfolio, service["id"], service["version"], summary=f"writer {n}")
        for n in range(10)))
    succeeded = [r for r in results if r["errors"] == []]
    assert len(succeeded) == 1, results
    assert all([e["code"] for e in r["errors"]] == ["CONFLICT"]
               for r in results if r is not succeeded[0])
    after = await state(portfolio, service["id"])
    assert after["summary"] == succeeded[0]["service"]["summary"]
