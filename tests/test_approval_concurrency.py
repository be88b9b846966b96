"""Votes and the charter decision arriving at the same moment (PostgreSQL only).

An approval round's row is the lock that puts votes and the decision closing the round
one after another (``approval.lock_open_round``: SELECT ... FOR UPDATE). Sequential
tests cannot show that the lock works, so these fire many requests at once with
``asyncio.gather``. Each is its own HTTP request with its own session, so each runs on
its own database connection (the tests check that several were open at once) and they
really contend on the row lock. The tests check that nothing is lost, counted twice or
slipped into a round after it closed:

* twenty decision makers voting at once: every vote is stored, and each vote's count saw
  exactly the votes before it (the tallies the twenty payloads report are 1..20, each once);
* ten portfolio managers chartering at once: one gets through; the other nine get
  CONFLICT; one stage change, one baseline, one round closed as APPROVED;
* votes racing the charter: a vote is either counted in the round that the charter
  freezes, or refused with CONFLICT or STAGE_LOCKED; none is stored after the round closed.

On SQLite, writers wait for each other's whole transaction, so there is no race to
test and the runs on SQLite are skipped.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from sqlalchemy import ColumnElement, event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.db.engine import create_session_factory
from spm_api.models import ApprovalRound, Baseline, StageChange, Vote
from spm_api.vocabulary.enums import ApprovalStatus, Decision, Role
from spm_api.vocabulary.stages import Stage
from tests.support import Org, Portfolio, add_decision_makers

VOTERS = 20
#: Positions of the voters who reject: six of twenty, fewer than the 11 that would
#: reject the round under the built-in majority rule, so the round stays open.
REJECTING = frozenset({1, 4, 7, 11, 14, 17})
MAJORITY_OF_VOTERS = VOTERS // 2 + 1

T = TypeVar("T", ApprovalRound, Vote, StageChange, Baseline)

SERVICE = """
query($id: ID!) {
  service(id: $id) {
    stage version
    stageChanges { fromStage toStage reason }
    approval { status closedAt votes { decision } voteHistory { decision comment } }
    baseline { frozenAt }
  }
}"""

TALLY = re.compile(r"(\d+) of (\d+) decision makers approve, (\d+) reject")


def skip_on_sqlite(db: AsyncEngine) -> None:
    if db.url.get_backend_name() == "sqlite":
        pytest.skip("concurrent writers are exercised on PostgreSQL")


@dataclass
class PoolWatch:
    """How many pooled connections were checked out at once."""

    open: int = 0
    peak: int = 0

    def checkout(self, *_args: Any) -> None:
        self.open += 1
        self.peak = max(self.peak, self.open)

    def checkin(self, *_args: Any) -> None:
        self.open -= 1


@asynccontextmanager
async def watch_pool(engine: AsyncEngine) -> AsyncIterator[PoolWatch]:
    """Count the connections the requests hold at once, to show they overlapped."""
    watch = PoolWatch()
    target = engine.sync_engine
    event.listen(target, "checkout", watch.checkout)
    event.listen(target, "checkin", watch.checkin)
    try:
        yield watch
    finally:
        event.remove(target, "checkout", watch.checkout)
        event.remove(target, "checkin", watch.checkin)


async def service_state(portfolio: Portfolio, service_id: str) -> dict[str, Any]:
    data = await portfolio.api.data(SERVICE, {"id": service_id},
                                    portfolio.org.token(Role.VIEWER))
    service: dict[str, Any] = data["service"]
    return service


def tally(explanation: str) -> tuple[int, int]:
    """(approvals, rejections) from the majority rule's explanation."""
    found = TALLY.search(explanation)
    assert found is not None, explanation
    return int(found[1]), int(found[3])


def tally_of(payload: dict[str, Any]) -> tuple[int, int]:
    [verdict] = payload["approval"]["verdicts"]
    assert verdict["rule"] == "majority"
    return tally(verdict["explanation"])


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["errors"]]


async def rows_of(db: AsyncEngine, model: type[T], *where: ColumnElement[bool]) -> list[T]:
    """Rows straight from the database, past the API."""
    async with create_session_factory(db)() as session:
        return list(await session.scalars(select(model).where(*where).order_by(model.id)))


async def rounds_of(db: AsyncEngine, org: Org) -> list[ApprovalRound]:
    return await rows_of(db, ApprovalRound, ApprovalRound.organisation_id == org.id)


async def votes_of(db: AsyncEngine, org: Org) -> list[Vote]:
    return await rows_of(db, Vote, Vote.organisation_id == org.id)


async def charter_changes_and_baselines(db: AsyncEngine, org: Org
                                        ) -> tuple[list[StageChange], list[Baseline]]:
    changes = await rows_of(db, StageChange, StageChange.organisation_id == org.id,
                            StageChange.to_stage == Stage.CHARTERED)
    return changes, await rows_of(db, Baseline, Baseline.organisation_id == org.id)


def latest_per_voter(votes: list[Vote]) -> dict[int, Vote]:
    latest: dict[int, Vote] = {}
    for vote in sorted(votes, key=lambda v: v.id):
        latest[vote.voter_id] = vote
    return latest


# --- twenty votes at once ---------------------------------------------------------


async def test_twenty_concurrent_votes_are_all_counted_one_after_another(
    portfolio: Portfolio, org: Org, db: AsyncEngine
) -> None:
    skip_on_sqlite(db)
    deciders = await add_decision_makers(db, org, VOTERS)
    service_id = await portfolio.in_approval()
    decisions = ["REJECT" if n in REJECTING else "APPROVE" for n in range(VOTERS)]

    async with watch_pool(db) as pool:
        payloads = await asyncio.gather(*(
            portfolio.vote(service_id, decision, token, f"voter {n}")
            for n, (token, decision) in enumerate(zip(deciders, decisions, strict=True))))
    assert pool.peak > 1, "the votes did not overlap: they never held two connections"

    for payload, decision in zip(payloads, decisions, strict=True):
        assert payload["errors"] == [], payload["errors"]
        assert payload["vote"]["decision"] == decision
        assert payload["service"]["stage"] == "APPROVAL"
        assert payload["stageChange"] is None
        assert payload["approval"]["decisionMakerCount"] == VOTERS

    # Each vote was counted under the round's lock, so each saw every vote committed
    # before it and none after: the counts run 1..20, each once, and going from one
    # count to the next adds exactly the vote whose payload reports it.
    tallies = [tally_of(payload) for payload in payloads]
    assert sorted(a + r for a, r in tallies) == list(range(1, VOTERS + 1)), tallies
    seen = (0, 0)
    for n in sorted(range(VOTERS), key=lambda i: sum(tallies[i])):
        approve = decisions[n] == "APPROVE"
        assert tallies[n] == (seen[0] + approve, seen[1] + (not approve)), (n, tallies)
        seen = tallies[n]
        expected = "APPROVED" if seen[0] >= MAJORITY_OF_VOTERS else "PENDING"
        assert payloads[n]["approval"]["status"] == expected, (n, tallies[n])
    assert seen == (VOTERS - len(REJECTING), len(REJECTING))

    read = await portfolio.approval(service_id)
    assert read["stage"] == "APPROVAL"
    approval = read["approval"]
    assert approval["status"] == "APPROVED"  # 14 of 20 approve, the round waits for a charter
    assert approval["closedAt"] is None
    assert approval["decisionMakerCount"] == VOTERS
    assert len(approval["votes"]) == VOTERS
    assert len(approval["voteHistory"]) == VOTERS
    assert len({vote["voter"]["id"] for vote in approval["votes"]}) == VOTERS
    assert {vote["comment"] for vote in approval["votes"]} == {
        f"voter {n}" for n in range(VOTERS)}
    assert Counter(vote["decision"] for vote in approval["votes"]) == Counter(decisions)
    assert Counter(vote["decision"] for vote in approval["voteHistory"]) == Counter(decisions)
    [verdict] = approval["verdicts"]
    assert tally(verdict["explanation"]) == (14, 6)

    [round_] = await rounds_of(db, org)
    assert round_.closed_at is None and round_.outcome is None
    rows = await votes_of(db, org)
    assert len(rows) == VOTERS
    assert {row.round_id for row in rows} == {round_.id}
    assert len({row.voter_id for row in rows}) == VOTERS
    assert Counter(row.decision.value for row in rows) == Counter(decisions)
    async with db.connect() as connection:
        assert await connection.scalar(
            select(func.count()).select_from(Vote).where(Vote.round_id == round_.id)
        ) == VOTERS


# --- ten charters at once ---------------------------------------------------------


async def test_ten_concurrent_charters_let_exactly_one_through(
    portfolio: Portfolio, org: Org, db: AsyncEngine
) -> None:
    skip_on_sqlite(db)
    service_id = await portfolio.approved()
    before = await service_state(portfolio, service_id)
    assert before["stage"] == "APPROVAL" and before["approval"]["status"] == "APPROVED"

    # expectedVersion as a client would send it: a request that reads the service only
    # after the winner committed is refused by the version check (CONFLICT) rather than
    # finding a CHARTERED service that cannot move to CHARTERED (INVALID_TRANSITION).
    async with watch_pool(db) as pool:
        results = await asyncio.gather(*(
            portfolio.transition(service_id, "CHARTERED", f"charter {n}",
                                 expected_version=before["version"])
            for n in range(10)))
    assert pool.peak > 1, "the charters did not overlap: they never held two connections"

    succeeded = [result for result in results if result["errors"] == []]
    refused = [result for result in results if result["errors"] != []]
    assert len(succeeded) == 1, results
    [winner] = succeeded
    assert winner["service"]["stage"] == "CHARTERED"
    assert winner["stageChange"]["fromStage"] == "APPROVAL"
    assert winner["stageChange"]["toStage"] == "CHARTERED"
    assert len(refused) == 9
    for payload in refused:
        assert codes(payload) == ["CONFLICT"], payload["errors"]
        assert payload["service"] is None and payload["stageChange"] is None

    after = await service_state(portfolio, service_id)
    assert after["stage"] == "CHARTERED"
    assert after["version"] == winner["service"]["version"]
    assert [(c["fromStage"], c["toStage"]) for c in after["stageChanges"]] == [
        (None, "DEFINITION"), ("DEFINITION", "ANALYSIS"), ("ANALYSIS", "APPROVAL"),
        ("APPROVAL", "CHARTERED")]
    assert after["stageChanges"][-1]["reason"] == winner["stageChange"]["reason"]
    assert after["approval"]["status"] == "APPROVED"
    assert after["approval"]["closedAt"] is not None
    assert after["baseline"] is not None

    changes, baselines = await charter_changes_and_baselines(db, org)
    [change] = changes
    assert change.from_stage is Stage.APPROVAL
    assert change.reason == winner["stageChange"]["reason"]
    [baseline] = baselines
    assert baseline.stage_change_id == change.id
    [round_] = await rounds_of(db, org)
    assert round_.closed_at is not None
    assert round_.outcome is ApprovalStatus.APPROVED
    assert round_.verdicts is not None and round_.verdicts[0]["status"] == "APPROVED"


# --- votes racing the charter -----------------------------------------------------


@pytest.mark.parametrize("charter_at", [0, 2, 5])
async def test_votes_racing_the_charter_are_counted_or_refused(
    portfolio: Portfolio, org: Org, db: AsyncEngine, charter_at: int
) -> None:
    skip_on_sqlite(db)
    deciders = await add_decision_makers(db, org, 6)
    service_id = await portfolio.in_approval()
    for token in deciders[:4]:  # 4 of 6 approve: a majority, the round is APPROVED
        voted = await portfolio.vote(service_id, "APPROVE", token, "first")
        assert voted["errors"] == [], voted["errors"]
    assert voted["approval"]["status"] == "APPROVED"

    # Whatever lands, the four approvals stand, so the round stays APPROVED and the
    # charter must get through wherever it falls among the votes.
    racing = [(deciders[4], "REJECT"), (deciders[5], "APPROVE"), (deciders[0], "APPROVE"),
              (deciders[1], "APPROVE"), (deciders[2], "APPROVE")]
    requests: list[Coroutine[Any, Any, dict[str, Any]]] = [
        portfolio.vote(service_id, decision, token, f"race {n}")
        for n, (token, decision) in enumerate(racing)]
    requests.insert(charter_at, portfolio.transition(service_id, "CHARTERED", "go"))
    async with watch_pool(db) as pool:
        results = await asyncio.gather(*requests)
    assert pool.peak > 1, "the requests did not overlap: they never held two connections"
    charter = results.pop(charter_at)

    assert charter["errors"] == [], charter["errors"]
    assert charter["service"]["stage"] == "CHARTERED"
    landed: set[str] = set()
    for n, payload in enumerate(results):
        if payload["errors"] == []:
            landed.add(f"race {n}")
            assert payload["vote"]["comment"] == f"race {n}"
            assert payload["service"]["stage"] == "APPROVAL"
            assert payload["approval"]["status"] == "APPROVED"
        else:
            assert codes(payload) in (["CONFLICT"], ["STAGE_LOCKED"]), payload["errors"]
            assert payload["vote"] is None

    [round_] = await rounds_of(db, org)
    assert round_.closed_at is not None
    assert round_.outcome is ApprovalStatus.APPROVED
    rows = await votes_of(db, org)
    assert {row.round_id for row in rows} == {round_.id}
    assert {row.comment for row in rows} == {"first"} | landed
    assert len(rows) == 4 + len(landed)
    assert all(row.cast_at <= round_.closed_at for row in rows), [
        (row.comment, row.cast_at) for row in rows if row.cast_at > round_.closed_at]

    # The verdict frozen at chartering counted exactly the votes stored in the round.
    current = latest_per_voter(rows).values()
    expected_tally = (sum(v.decision is Decision.APPROVE for v in current),
                      sum(v.decision is Decision.REJECT for v in current))
    assert round_.verdicts is not None
    [frozen] = round_.verdicts
    assert frozen["status"] == "APPROVED"
    assert tally(frozen["explanation"]) == expected_tally

    read = await service_state(portfolio, service_id)
    assert read["stage"] == "CHARTERED"
    assert [c["toStage"] for c in read["stageChanges"]].count("CHARTERED") == 1
    assert read["approval"]["status"] == "APPROVED"
    assert len(read["approval"]["voteHistory"]) == len(rows)
    assert len(read["approval"]["votes"]) == len(latest_per_voter(rows))
    changes, baselines = await charter_changes_and_baselines(db, org)
    assert len(changes) == 1 and len(baselines) == 1
