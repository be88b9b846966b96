"""A misbehaving plugin fails only the operation that called it.

An approval rule that raises, hangs or returns garbage makes that vote, transition or
read fail with ``PLUGIN_ERROR`` naming the plugin; nothing is written, the failure is
logged, and the next request is served normally. Stage-change observers hear only of
committed changes, after the commit, and one that fails cannot undo the change.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.app import create_app
from spm_api.models import ApprovalRound, Baseline, Service, StageChange, Vote
from spm_api.plugins import (
    ApprovalRule,
    Ballot,
    ServiceFacts,
    Settings,
    StageChanged,
    Verdict,
    hookimpl,
)
from spm_api.plugins.contracts import EVALUATE
from spm_api.plugins.host import PluginHost
from spm_api.plugins.manager import build_plugin_manager
from spm_api.settings import Settings as AppSettings
from spm_api.vocabulary.enums import ApprovalStatus, InvestmentCategory, Role
from spm_api.vocabulary.errors import DomainError
from spm_api.vocabulary.stages import Stage
from tests.support import APPROVAL, GraphQLClient, Org, Portfolio, serve_api

FLAKY = "flaky"
FLAKY_RULE = "flaky_rule"
#: Long enough that a well-behaved rule answers in time on a loaded 2-core machine.
TIMEOUT = 1.0
#: A failing call must come back long before the plugin would have finished (5 s or
#: 30 s): the time limit holds and a blocking plugin does not stall the event loop.
PROMPT = 3.0

SET_RULES = """
mutation($rules: [String!]!) {
  setApprovalRules(input: {rules: $rules}) { rules errors { code message } }
}"""

STATE = """
query($id: ID!) {
  service(id: $id) { stage version stageChanges { fromStage toStage } }
}"""


# --- the misbehaving approval rules -------------------------------------------------


def raises(_ballot: Ballot, _settings: Settings) -> Verdict:
    raise RuntimeError("the rule's back end is down")


async def hangs(_ballot: Ballot, _settings: Settings) -> Verdict:
    await asyncio.sleep(30)
    return Verdict(ApprovalStatus.APPROVED, "far too late")


def blocks(_ballot: Ballot, _settings: Settings) -> Verdict:
    time.sleep(5)  # runs on the plugin thread pool, never on the event loop
    return Verdict(ApprovalStatus.APPROVED, "far too late")


def returns_a_string(_ballot: Ballot, _settings: Settings) -> Any:
    return "APPROVED"


async def returns_a_list(_ballot: Ballot, _settings: Settings) -> Any:
    return [ApprovalStatus.APPROVED]


def explains_with_a_number(_ballot: Ballot, _settings: Settings) -> Any:
    explanation: Any = 42
    return Verdict(ApprovalStatus.APPROVED, explanation)


def decides_maybe(_ballot: Ballot, _settings: Settings) -> Any:
    status: Any = "MAYBE"
    return Verdict(status, "a status that is not an ApprovalStatus")


def decides_with_a_plain_string(_ballot: Ballot, _settings: Settings) -> Any:
    status: Any = "APPROVED"
    return Verdict(status, "the right word, but not an ApprovalStatus")


@dataclass(frozen=True)
class Failure:
    """One way a rule misbehaves, and what the PLUGIN_ERROR message then says."""

    id: str
    evaluate: Callable[..., Any]
    says: str
    #: The rule raised: the log carries that exception and its traceback.
    raised: type[BaseException] | None = None


FAILURES = [
    Failure("raises", raises, "raised RuntimeError", RuntimeError),
    Failure("async-hangs", hangs, f"did not answer within {TIMEOUT:g} s"),
    Failure("sync-blocks", blocks, f"did not answer within {TIMEOUT:g} s"),
    Failure("returns-a-string", returns_a_string, "instead of a Verdict"),
    Failure("async-returns-a-list", returns_a_list, "instead of a Verdict"),
    Failure("explains-with-a-number", explains_with_a_number, "instead of a Verdict"),
]
STATUS_FAILURES = [
    Failure("status-maybe", decides_maybe, "instead of a Verdict"),
    Failure("status-a-plain-string", decides_with_a_plain_string, "instead of a Verdict"),
]
each_failure = pytest.mark.parametrize("failure", [
    *(pytest.param(f, id=f.id) for f in FAILURES),
    *(pytest.param(f, id=f.id) for f in STATUS_FAILURES),
])


class RulePlugin:
    """A third-party plugin offering one approval rule."""

    def __init__(self, evaluate: Callable[..., Any]) -> None:
        self.evaluate = evaluate

    @hookimpl
    def spm_approval_rules(self) -> list[ApprovalRule]:
        return [ApprovalRule(name=FLAKY_RULE, title="Flaky rule",
                             description="Misbehaves on purpose.", evaluate=self.evaluate)]


class RaisingObserver:
    @hookimpl
    def spm_stage_changed(self, event: StageChanged) -> None:
        raise RuntimeError(f"cannot tell anyone about change {event.change_id}")


class RecordingObserver:
    """An async observer that notes each event and what the database said at the time."""

    def __init__(self, engine: AsyncEngine, gate: asyncio.Event | None = None) -> None:
        self.engine = engine
        self.gate = gate
        self.events: list[StageChanged] = []
        self.stage_seen: list[Stage | None] = []

    @hookimpl
    async def spm_stage_changed(self, event: StageChanged) -> None:
        if self.gate is not None:
            await self.gate.wait()
        async with self.engine.connect() as connection:  # outside the request's session
            self.stage_seen.append(await connection.scalar(
                select(Service.stage).where(Service.id == event.service_id)))
        self.events.append(event)


# --- helpers -------------------------------------------------------------------------


@asynccontextmanager
async def serve_with(db: AsyncEngine, settings: AppSettings, plugins: dict[str, object],
                     plugin_timeout: float = TIMEOUT
                     ) -> AsyncIterator[tuple[GraphQLClient, PluginHost]]:
    """The API with the built-ins and ``plugins`` (name → plugin object) loaded."""
    manager = build_plugin_manager(frozenset())
    for name, plugin in plugins.items():
        manager.register(plugin, name=name)
    host = PluginHost(manager, timeout=plugin_timeout)
    try:
        async with serve_api(create_app(settings, engine=db, plugins=host)) as client:
            yield client, host
    finally:
        await host.drain()
        host.close()


async def choose_rules(portfolio: Portfolio, *rules: str) -> None:
    data = await portfolio.api.data(SET_RULES, {"rules": list(rules)},
                                    portfolio.org.token(Role.ADMIN))
    assert data["setApprovalRules"] == {"rules": sorted(rules), "errors": []}


async def state(portfolio: Portfolio, service_id: str) -> dict[str, Any]:
    data = await portfolio.api.data(STATE, {"id": service_id}, portfolio.org.token(Role.VIEWER))
    service: dict[str, Any] = data["service"]
    return service


async def rows(db: AsyncEngine) -> dict[str, Any]:
    """What the database holds of the approval: votes, stage changes, the round, baselines."""
    async with db.connect() as connection:
        return {
            "votes": await connection.scalar(select(func.count()).select_from(Vote)),
            "stage_changes": await connection.scalar(
                select(func.count()).select_from(StageChange)),
            "baselines": await connection.scalar(select(func.count()).select_from(Baseline)),
            "rounds": (await connection.execute(
                select(ApprovalRound.closed_at, ApprovalRound.outcome))).all(),
        }


def plugin_error_message(errors: list[dict[str, Any]]) -> str:
    assert [error["code"] for error in errors] == ["PLUGIN_ERROR"], errors
    message: str = errors[0]["message"]
    assert f"plugin {FLAKY!r}" in message
    return message


def assert_logged(caplog: pytest.LogCaptureFixture, failure: Failure, message: str) -> None:
    """The failure was logged once, naming the plugin, under the id the user was shown."""
    records = [r for r in caplog.records
               if r.name == "spm_api.plugins" and r.levelno == logging.ERROR]
    assert len(records) == 1, [r.getMessage() for r in records]
    record = records[0]
    assert f"{FLAKY!r}" in record.getMessage()
    error_id = message.rsplit("error id ", 1)[1].rstrip(")")
    assert error_id in record.getMessage()
    if failure.raised is not None:
        assert record.exc_info is not None
        assert isinstance(record.exc_info[1], failure.raised)
        assert record.exc_info[2] is not None  # the traceback


# --- a failing approval rule --------------------------------------------------------


@each_failure
async def test_failing_rule_fails_the_vote_and_writes_nothing(
    failure: Failure, db: AsyncEngine, settings: AppSettings, org: Org,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with serve_with(db, settings, {FLAKY: RulePlugin(failure.evaluate)}) as (client, _):
        portfolio = Portfolio(client, org)
        service_id = await portfolio.in_approval()
        await choose_rules(portfolio, "majority", FLAKY_RULE)
        before, stored = await state(portfolio, service_id), await rows(db)

        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="spm_api.plugins"):
            started = time.monotonic()
            voted = await portfolio.vote(service_id, "APPROVE", org.token(Role.DECISION_MAKER))
            elapsed = time.monotonic() - started

        assert elapsed < PROMPT
        message = plugin_error_message(voted["errors"])
        assert failure.says in message
        assert voted["vote"] is None
        assert voted["approval"] is None
        assert voted["stageChange"] is None
        assert await state(portfolio, service_id) == before
        assert await rows(db) == stored
        assert stored["votes"] == 0
        assert_logged(caplog, failure, message)

        # The server is fine: the admin drops the rule and the same vote goes through.
        await choose_rules(portfolio, "majority")
        voted = await portfolio.vote(service_id, "APPROVE", org.token(Role.DECISION_MAKER))
        assert voted["errors"] == []
        assert voted["approval"]["status"] == "APPROVED"
        assert (await rows(db))["votes"] == 1


@each_failure
async def test_failing_rule_fails_chartering_and_writes_nothing(
    failure: Failure, db: AsyncEngine, settings: AppSettings, org: Org,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with serve_with(db, settings, {FLAKY: RulePlugin(failure.evaluate)}) as (client, _):
        portfolio = Portfolio(client, org)
        service_id = await portfolio.approved()  # by the majority rule alone
        await choose_rules(portfolio, "majority", FLAKY_RULE)
        before, stored = await state(portfolio, service_id), await rows(db)
        assert before["stage"] == "APPROVAL"

        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="spm_api.plugins"):
            started = time.monotonic()
            moved = await portfolio.transition(service_id, "CHARTERED", "go",
                                               expected_version=before["version"])
            elapsed = time.monotonic() - started

        assert elapsed < PROMPT
        message = plugin_error_message(moved["errors"])
        assert failure.says in message
        assert moved["service"] is None
        assert moved["stageChange"] is None
        assert await state(portfolio, service_id) == before  # same stage, version, history
        assert await rows(db) == stored  # round still open, no baseline, no stage change
        assert stored["rounds"] == [(None, None)]
        assert_logged(caplog, failure, message)

        await choose_rules(portfolio, "majority")
        moved = await portfolio.transition(service_id, "CHARTERED", "go",
                                           expected_version=before["version"])
        assert moved["errors"] == []
        assert moved["service"]["stage"] == "CHARTERED"


@each_failure
async def test_failing_rule_fails_reading_the_round_with_a_plugin_error(
    failure: Failure, db: AsyncEngine, settings: AppSettings, org: Org,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with serve_with(db, settings, {FLAKY: RulePlugin(failure.evaluate)}) as (client, _):
        portfolio = Portfolio(client, org)
        service_id = await portfolio.in_approval()
        await choose_rules(portfolio, "majority", FLAKY_RULE)

        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="spm_api.plugins"):
            body = await client.execute(APPROVAL, {"id": service_id}, org.token(Role.VIEWER))

        # The fields that ask the rules fail (status, verdicts); the votes do not.
        error, *more = body["errors"]
        assert {tuple(found["path"]) for found in body["errors"]} <= {
            ("node", "approval", "status"), ("node", "approval", "verdicts")}
        assert {found["extensions"]["code"] for found in body["errors"]} == {"PLUGIN_ERROR"}
        assert all(found["message"] == error["message"] for found in more)
        message = plugin_error_message([{"code": "PLUGIN_ERROR", "message": error["message"]}])
        assert failure.says in message
        # The rest of the service is still served; only the round could not be evaluated.
        assert body["data"] == {"node": {"stage": "APPROVAL", "approval": None}}
        assert_logged(caplog, failure, message)

        # The server answers the next query, and the round once the rule is dropped.
        assert (await state(portfolio, service_id))["stage"] == "APPROVAL"
        await choose_rules(portfolio, "majority")
        round_ = (await portfolio.approval(service_id))["approval"]
        assert round_["status"] == "PENDING"
        assert [v["rule"] for v in round_["verdicts"]] == ["majority"]


# --- stage-change observers ---------------------------------------------------------


async def test_failing_observer_does_not_undo_the_change(
    db: AsyncEngine, settings: AppSettings, org: Org, caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = RecordingObserver(db)
    plugins: dict[str, object] = {FLAKY: RaisingObserver(), "recorder": recorder}
    async with serve_with(db, settings, plugins) as (client, host):
        portfolio = Portfolio(client, org)
        service = await portfolio.create()
        await portfolio.add_requirement(service["id"])
        await host.drain()  # the proposal's creation is a stage change too

        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="spm_api.plugins"):
            moved = await portfolio.transition(service["id"], "ANALYSIS")
            await host.drain()

        assert moved["errors"] == []
        assert moved["service"]["stage"] == "ANALYSIS"
        after = await state(portfolio, service["id"])
        assert after["stage"] == "ANALYSIS"
        assert [c["toStage"] for c in after["stageChanges"]] == ["DEFINITION", "ANALYSIS"]

        [record] = [r for r in caplog.records if r.name == "spm_api.plugins"]
        assert f"{FLAKY!r}" in record.getMessage()
        assert "observing a stage change" in record.getMessage()
        assert record.exc_info is not None
        assert isinstance(record.exc_info[1], RuntimeError)
        # The other observer still heard of each change, the creation included.
        assert [(e.from_stage, e.to_stage) for e in recorder.events] == [
            (None, Stage.DEFINITION), (Stage.DEFINITION, Stage.ANALYSIS)]


async def test_async_observer_hears_of_each_committed_change_after_the_commit(
    db: AsyncEngine, settings: AppSettings, org: Org,
) -> None:
    gate = asyncio.Event()
    recorder = RecordingObserver(db, gate)
    async with serve_with(db, settings, {"recorder": recorder},
                          plugin_timeout=10) as (client, host):
        portfolio = Portfolio(client, org)
        service_id = (await portfolio.create())["id"]
        requirement_id = await portfolio.add_requirement(service_id)

        moved = await portfolio.transition(service_id, "ANALYSIS", "ready")
        assert moved["errors"] == []
        # The response did not wait for the observer, which is still at the gate.
        assert recorder.events == []
        gate.set()
        await host.drain()

        # The creation's and the move's observers ran concurrently once the gate opened.
        created, event = sorted(recorder.events, key=lambda e: e.change_id)
        assert (created.from_stage, created.to_stage) == (None, Stage.DEFINITION)
        assert (event.from_stage, event.to_stage) == (Stage.DEFINITION, Stage.ANALYSIS)
        assert event.organisation_id == org.id
        assert event.service_name == "Service Desk"
        assert event.actor_id == org.person_ids[Role.PORTFOLIO_MANAGER]
        assert event.reason == "ready"
        assert recorder.stage_seen == [Stage.ANALYSIS, Stage.ANALYSIS]  # committed when told
        async with db.connect() as connection:
            change = (await connection.execute(
                select(StageChange.id, StageChange.service_id)
                .where(StageChange.to_stage == Stage.ANALYSIS))).one()
        assert (event.change_id, event.service_id) == (change.id, change.service_id)

        # A vote that rejects the proposal moves it, and that is announced too.
        await portfolio.assess(requirement_id)
        await portfolio.add_input(service_id)
        assert (await portfolio.transition(service_id, "APPROVAL"))["errors"] == []
        voted = await portfolio.vote(service_id, "REJECT", org.token(Role.DECISION_MAKER))
        assert voted["errors"] == []
        assert voted["stageChange"]["toStage"] == "REJECTED"
        await host.drain()

        heard = sorted(zip(recorder.events, recorder.stage_seen, strict=True),
                       key=lambda pair: pair[0].change_id)
        assert [(e.from_stage, e.to_stage, seen) for e, seen in heard] == [
            (None, Stage.DEFINITION, Stage.ANALYSIS),
            (Stage.DEFINITION, Stage.ANALYSIS, Stage.ANALYSIS),
            (Stage.ANALYSIS, Stage.APPROVAL, Stage.APPROVAL),
            (Stage.APPROVAL, Stage.REJECTED, Stage.REJECTED),
        ]
        assert heard[-1][0].actor_id == org.person_ids[Role.DECISION_MAKER]


async def test_failed_mutation_announces_nothing(
    db: AsyncEngine, settings: AppSettings, org: Org,
) -> None:
    recorder = RecordingObserver(db)
    async with serve_with(db, settings, {"recorder": recorder}) as (client, host):
        portfolio = Portfolio(client, org)
        service = await portfolio.create()
        await host.drain()
        assert [(e.from_stage, e.to_stage) for e in recorder.events] == [
            (None, Stage.DEFINITION)]
        recorder.events.clear()

        refused = await portfolio.transition(service["id"], "ANALYSIS")  # no requirement yet
        assert [e["code"] for e in refused["errors"]] == ["GUARD_FAILED"]
        invalid = await portfolio.transition(service["id"], "CHARTERED")
        assert [e["code"] for e in invalid["errors"]] == ["INVALID_TRANSITION"]
        await host.drain()
        assert recorder.events == []

        # The next change that succeeds is announced once, on its own.
        await portfolio.add_requirement(service["id"])
        assert (await portfolio.transition(service["id"], "ANALYSIS"))["errors"] == []
        await host.drain()
        assert [(e.from_stage, e.to_stage) for e in recorder.events] == [
            (Stage.DEFINITION, Stage.ANALYSIS)]


async def test_a_blocking_plugin_does_not_starve_the_others() -> None:
    manager = build_plugin_manager(frozenset())
    manager.register(RulePlugin(blocks), name=FLAKY)
    host = PluginHost(manager, timeout=TIMEOUT)
    ballot = Ballot(service=ServiceFacts(id=1, organisation_id=1, name="Service Desk",
                                         investment_category=InvestmentCategory.RUN,
                                         estimated_cost=None),
                    decision_makers=(), votes=())
    try:
        for _ in range(4):
            with pytest.raises(DomainError, match=f"plugin {FLAKY!r} did not answer"):
                await host.call(EVALUATE, FLAKY_RULE, ballot, {})
        verdict = await host.call(EVALUATE, "majority", ballot, {})
        assert verdict.status is ApprovalStatus.PENDING
    finally:
        host.close()
