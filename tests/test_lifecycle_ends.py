"""Continue or terminate at every stage, over GraphQL: a proposal withdrawn, a chartered
project cancelled, a rejected proposal reworked into a new approval round, and a live
service retired through RETIRING — each refusal with its code and its explanation.

Engagements cancelled through the outbox are in ``test_sourcing.py``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.db.engine import create_session_factory
from spm_api.domain.finance.imports import import_usage
from spm_api.vocabulary.enums import Role
from spm_api.vocabulary.errors import DomainError
from spm_api.vocabulary.periods import Period
from tests.support import UPDATE_SERVICE, Portfolio


def errors(payload: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    return [(e["code"], e["field"], e["message"]) for e in payload["errors"]]


def today() -> date:
    return datetime.now(UTC).date()


def month_of(day: date) -> Period:
    return Period(day.year, day.month)


SERVICE = """
query($id: ID!) { service(id: $id) {
  stage section plannedEndDate
  stageChanges { fromStage toStage reason }
} }"""


async def read(portfolio: Portfolio, service_id: str) -> dict[str, Any]:
    data = await portfolio.api.data(SERVICE, {"id": service_id},
                                    portfolio.org.token(Role.VIEWER))
    service: dict[str, Any] = data["service"]
    return service


# --- withdrawn -------------------------------------------------------------------------


async def test_a_proposal_is_withdrawn_from_definition_with_a_reason(
        portfolio: Portfolio) -> None:
    service = await portfolio.create()
    refused = await portfolio.transition(service["id"], "WITHDRAWN", reason="  ")
    assert refused["service"] is None
    assert errors(refused) == [("REASON_REQUIRED", "reason", "say why")]

    withdrawn = await portfolio.transition(service["id"], "WITHDRAWN",
                                           reason="the sponsor left")
    assert withdrawn["errors"] == []
    assert (withdrawn["service"]["stage"], withdrawn["service"]["section"]) == (
        "WITHDRAWN", "TERMINATED")
    assert withdrawn["stageChange"]["fromStage"] == "DEFINITION"
    assert withdrawn["stageChange"]["reason"] == "the sponsor left"


async def test_a_proposal_is_withdrawn_from_analysis(portfolio: Portfolio) -> None:
    service_id, _ = await portfolio.in_analysis()
    withdrawn = await portfolio.transition(service_id, "WITHDRAWN", reason="bought instead")
    assert withdrawn["errors"] == []
    assert withdrawn["stageChange"]["fromStage"] == "ANALYSIS"


async def test_a_proposal_in_approval_is_decided_not_withdrawn(portfolio: Portfolio) -> None:
    service_id = await portfolio.in_approval()
    refused = await portfolio.transition(service_id, "WITHDRAWN", reason="changed our mind")
    assert errors(refused) == [(
        "INVALID_TRANSITION", "to",
        "APPROVAL cannot move to WITHDRAWN; it may move to CHARTERED, REJECTED")]


async def test_a_withdrawn_proposal_is_closed(portfolio: Portfolio) -> None:
    service = await portfolio.create()
    await portfolio.transition(service["id"], "WITHDRAWN", reason="no budget")
    renamed = await portfolio.api.data(
        UPDATE_SERVICE, {"input": {"serviceId": service["id"], "name": "Renamed"}},
        portfolio.org.token(Role.PORTFOLIO_MANAGER))
    assert errors(renamed["updateService"]) == [
        ("STAGE_LOCKED", None, "the service is WITHDRAWN and cannot change")]
    for target in ("DEFINITION", "ANALYSIS"):
        refused = await portfolio.transition(service["id"], target, reason="again")
        assert errors(refused) == [(
            "INVALID_TRANSITION", "to",
            f"WITHDRAWN cannot move to {target}; it may move to nothing")]


async def test_only_portfolio_managers_withdraw(portfolio: Portfolio) -> None:
    service = await portfolio.create()
    refused = await portfolio.transition(service["id"], "WITHDRAWN", reason="mine",
                                         role=Role.CONTRIBUTOR)
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]


# --- cancelled -------------------------------------------------------------------------


async def test_a_chartered_project_is_cancelled_with_a_reason(portfolio: Portfolio) -> None:
    service_id = await portfolio.chartered()
    refused = await portfolio.transition(service_id, "CANCELLED")
    assert errors(refused) == [("REASON_REQUIRED", "reason", "say why")]

    cancelled = await portfolio.transition(service_id, "CANCELLED",
                                           reason="the regulation was withdrawn")
    assert cancelled["errors"] == []
    assert (cancelled["service"]["stage"], cancelled["service"]["section"]) == (
        "CANCELLED", "TERMINATED")
    assert cancelled["stageChange"] == {
        "fromStage": "CHARTERED", "toStage": "CANCELLED",
        "reason": "the regulation was withdrawn",
        "actor": {"id": cancelled["stageChange"]["actor"]["id"]}}
    refused = await portfolio.transition(service_id, "LIVE")
    assert errors(refused) == [("INVALID_TRANSITION", "to",
                                "CANCELLED cannot move to LIVE; it may move to nothing")]


async def test_only_chartered_projects_are_cancelled(portfolio: Portfolio) -> None:
    service_id = await portfolio.live()
    refused = await portfolio.transition(service_id, "CANCELLED", reason="stop")
    assert errors(refused) == [("INVALID_TRANSITION", "to",
                                "LIVE cannot move to CANCELLED; it may move to RETIRING")]


# --- rework ----------------------------------------------------------------------------


ROUNDS = """
query($id: ID!) { service(id: $id) {
  stage
  approval { status closedAt }
  approvalRounds { status closedAt votes { decision comment } verdicts { rule status } }
} }"""


async def test_a_rejected_proposal_is_reworked_into_a_new_round(portfolio: Portfolio) -> None:
    service_id = await portfolio.in_approval()
    decider = portfolio.org.token(Role.DECISION_MAKER)
    rejected = await portfolio.vote(service_id, "REJECT", decider, "too expensive")
    assert rejected["service"]["stage"] == "REJECTED"

    reworked = await portfolio.transition(service_id, "DEFINITION")
    assert reworked["errors"] == []
    assert (reworked["service"]["stage"], reworked["service"]["section"]) == (
        "DEFINITION", "PIPELINE")
    assert reworked["stageChange"]["fromStage"] == "REJECTED"

    # Back through analysis to a second vote; the first round stays as it was decided.
    assert (await portfolio.transition(service_id, "ANALYSIS"))["errors"] == []
    assert (await portfolio.transition(service_id, "APPROVAL"))["errors"] == []
    data = await portfolio.api.data(ROUNDS, {"id": service_id},
                                    portfolio.org.token(Role.VIEWER))
    first, second = data["service"]["approvalRounds"]
    assert first["status"] == "REJECTED" and first["closedAt"] is not None
    assert first["votes"] == [{"decision": "REJECT", "comment": "too expensive"}]
    assert first["verdicts"] == [{"rule": "majority", "status": "REJECTED"}]
    assert second == {"status": "PENDING", "closedAt": None, "votes": [],
                      "verdicts": [{"rule": "majority", "status": "PENDING"}]}
    assert data["service"]["approval"] == {"status": "PENDING", "closedAt": None}

    approved = await portfolio.vote(service_id, "APPROVE", decider, "cheaper now")
    assert approved["approval"]["status"] == "APPROVED"
    chartered = await portfolio.transition(service_id, "CHARTERED", "go")
    assert chartered["errors"] == []
    data = await portfolio.api.data(ROUNDS, {"id": service_id},
                                    portfolio.org.token(Role.VIEWER))
    assert [r["status"] for r in data["service"]["approvalRounds"]] == ["REJECTED", "APPROVED"]


async def test_a_reason_for_rework_is_kept(portfolio: Portfolio) -> None:
    service_id = await portfolio.in_approval()
    await portfolio.vote(service_id, "REJECT", portfolio.org.token(Role.DECISION_MAKER))
    reworked = await portfolio.transition(service_id, "DEFINITION", reason="smaller scope")
    assert reworked["stageChange"]["reason"] == "smaller scope"
    refused = await portfolio.transition(service_id, "DEFINITION", reason="again")
    assert errors(refused) == [(
        "INVALID_TRANSITION", "to",
        "DEFINITION cannot move to DEFINITION; it may move to ANALYSIS, WITHDRAWN")]


# --- retiring --------------------------------------------------------------------------


async def test_live_goes_to_retired_only_through_retiring(portfolio: Portfolio) -> None:
    service_id = await portfolio.live()
    refused = await portfolio.transition(service_id, "RETIRED", reason="old")
    assert errors(refused) == [("INVALID_TRANSITION", "to",
                                "LIVE cannot move to RETIRED; it may move to RETIRING")]


async def test_retiring_needs_a_reason_and_a_planned_end_date(portfolio: Portfolio) -> None:
    service_id = await portfolio.live()
    refused = await portfolio.transition(service_id, "RETIRING")
    assert errors(refused) == [
        ("REASON_REQUIRED", "reason", "say why"),
        ("VALIDATION", "plannedEndDate",
         "give the planned end date: the last day the service is delivered")]

    end = today() + timedelta(days=60)
    retiring = await portfolio.transition(service_id, "RETIRING", "replaced",
                                          planned_end_date=end.isoformat())
    assert retiring["errors"] == []
    assert retiring["service"] == {**retiring["service"], "stage": "RETIRING",
                                   "section": "CATALOGUE", "plannedEndDate": end.isoformat()}
    assert (await read(portfolio, service_id))["plannedEndDate"] == end.isoformat()


async def test_the_end_date_is_not_before_usage_already_recorded(
        portfolio: Portfolio) -> None:
    """A shutdown recorded late may have a past end date, but not one before the
    service was still used."""
    finance = portfolio.org.token(Role.FINANCE)
    service_id = await portfolio.live("Mail")
    customer = (await portfolio.api.data(CUSTOMER, token=finance)
                )["createCustomer"]["customer"]["id"]
    used = await portfolio.api.data(USAGE, {"c": customer, "s": service_id,
                                            "p": "2026-06"}, finance)
    assert used["recordUsage"]["errors"] == []
    refused = await portfolio.transition(service_id, "RETIRING", "shut down in May",
                                         planned_end_date="2026-05-31")
    assert errors(refused) == [(
        "GUARD_FAILED", "plannedEndDate",
        "usage of 2026-06 is recorded already: the planned end date is in 2026-06 or "
        "later, not 2026-05-31")]
    late = await portfolio.transition(service_id, "RETIRING", "shut down in June",
                                      planned_end_date="2026-06-30")
    assert late["errors"] == []
    assert late["service"]["plannedEndDate"] == "2026-06-30"


async def test_a_planned_end_date_belongs_to_the_move_to_retiring(
        portfolio: Portfolio) -> None:
    service_id, _ = await portfolio.in_analysis()
    refused = await portfolio.transition(service_id, "WITHDRAWN", "no",
                                         planned_end_date=today().isoformat())
    assert errors(refused) == [(
        "VALIDATION", "plannedEndDate",
        "plannedEndDate is given only when a service starts RETIRING")]
    assert (await read(portfolio, service_id))["stage"] == "ANALYSIS"


CUSTOMER = """mutation { createCustomer(input: {name: "Sales", kind: INTERNAL_DEPARTMENT}) {
  customer { id } } }"""
USAGE = """mutation($c: ID!, $s: ID!, $p: String!) { recordUsage(input: {customerId: $c,
  serviceId: $s, period: $p, quantity: "3", unit: "GB"}) {
  usageRecord { period } errors { code field message } } }"""
ADJUST = """mutation($c: ID!, $s: ID!, $corrects: String!, $p: String!) {
  addChargeAdjustment(input: {customerId: $c, serviceId: $s, correctsPeriod: $corrects,
    period: $p, amount: {amount: "5.00", currency: "EUR"}, reason: "late usage"}) {
  errors { code field message } } }"""
CLOSE = """mutation($p: String!) { closePeriod(input: {period: $p}) {
  errors { code field message } } }"""


async def test_no_usage_or_charges_after_the_planned_end_date(
        portfolio: Portfolio, db: AsyncEngine) -> None:
    finance = portfolio.org.token(Role.FINANCE)
    end = today()
    last, after = month_of(end), month_of(end).shifted(1)
    service_id = await portfolio.retiring("Mail", end.isoformat())
    customer = (await portfolio.api.data(CUSTOMER, token=finance)
                )["createCustomer"]["customer"]["id"]

    kept = await portfolio.api.data(USAGE, {"c": customer, "s": service_id, "p": str(last)},
                                    finance)
    assert kept["recordUsage"]["errors"] == []
    refused = await portfolio.api.data(USAGE, {"c": customer, "s": service_id,
                                               "p": str(after)}, finance)
    assert errors(refused["recordUsage"]) == [(
        "SERVICE_ENDED", "period",
        f"'Mail' ends on {end} (RETIRING): nothing is used or charged after {last}, "
        f"not in {after}")]

    # A charge correcting a month after the end is refused the same way.
    closed = await portfolio.api.data(CLOSE, {"p": str(after)}, finance)
    assert closed["closePeriod"]["errors"] == []
    refused = await portfolio.api.data(ADJUST, {
        "c": customer, "s": service_id, "corrects": str(after), "p": str(after.shifted(1))},
        finance)
    assert errors(refused["addChargeAdjustment"]) == [(
        "SERVICE_ENDED", "correctsPeriod",
        f"'Mail' ends on {end} (RETIRING): nothing is used or charged after {last}, "
        f"not in {after}")]

    # An import of usage after the end imports nothing and names the line.
    async with create_session_factory(db)() as session:
        try:
            await import_usage(session, portfolio.org.id,
                               "customer,service,period,quantity,unit\n"
                               f"Sales,Mail,{last},1,GB\nSales,Mail,{after.shifted(1)},1,GB\n",
                               "usage.csv")
        except DomainError as error:
            assert [(p.code.value, p.field) for p in error.problems] == [
                ("VALIDATION", "line 3")]
            assert "nothing is used or charged after" in error.problems[0].message
        else:
            raise AssertionError("the import was accepted")


async def test_retired_once_the_last_month_is_closed(portfolio: Portfolio) -> None:
    end = today()
    last = month_of(end)
    service_id = await portfolio.retiring("Mail", end.isoformat())
    refused = await portfolio.transition(service_id, "RETIRED")
    assert errors(refused) == [(
        "GUARD_FAILED", "plannedEndDate",
        f"{last}, the month of the planned end date {end}, is still open: close it first "
        f"(closePeriod)")]
    assert (await read(portfolio, service_id))["stage"] == "RETIRING"

    closed = await portfolio.api.data(CLOSE, {"p": str(last)},
                                      portfolio.org.token(Role.FINANCE))
    assert closed["closePeriod"]["errors"] == []
    retired = await portfolio.transition(service_id, "RETIRED")
    assert retired["errors"] == []
    assert (retired["service"]["section"], retired["stageChange"]["fromStage"]) == (
        "RETIRED", "RETIRING")
    service = await read(portfolio, service_id)
    assert service["plannedEndDate"] == end.isoformat()
    assert [c["toStage"] for c in service["stageChanges"]][-3:] == [
        "LIVE", "RETIRING", "RETIRED"]


# --- sections --------------------------------------------------------------------------


COUNTS = "{ portfolio { bySection { section count } byStage { stage count } } }"
LISTED = """query($filter: ServiceFilter) { services(filter: $filter) {
  totalCount edges { node { name section } } } }"""


async def test_sections_keep_terminated_apart_from_retired(portfolio: Portfolio) -> None:
    end = today()
    withdrawn = await portfolio.create("Withdrawn one")
    await portfolio.transition(withdrawn["id"], "WITHDRAWN", reason="no")
    rejected = await portfolio.in_approval("Rejected one")
    await portfolio.vote(rejected, "REJECT", portfolio.org.token(Role.DECISION_MAKER))
    cancelled = await portfolio.chartered("Cancelled one")
    await portfolio.transition(cancelled, "CANCELLED", reason="stopped")
    await portfolio.retiring("Retiring one", end.isoformat())
    retired = await portfolio.retiring("Retired one", end.isoformat())
    await portfolio.api.data(CLOSE, {"p": str(month_of(end))},
                             portfolio.org.token(Role.FINANCE))
    assert (await portfolio.transition(retired, "RETIRED"))["errors"] == []

    viewer = portfolio.org.token(Role.VIEWER)
    counts = (await portfolio.api.data(COUNTS, token=viewer))["portfolio"]
    assert counts["bySection"] == [
        {"section": "PIPELINE", "count": 0}, {"section": "CATALOGUE", "count": 1},
        {"section": "RETIRED", "count": 1}, {"section": "TERMINATED", "count": 3}]
    by_stage = {row["stage"]: row["count"] for row in counts["byStage"]}
    assert {stage: by_stage[stage] for stage in (
        "RETIRING", "RETIRED", "REJECTED", "WITHDRAWN", "CANCELLED")} == {
        "RETIRING": 1, "RETIRED": 1, "REJECTED": 1, "WITHDRAWN": 1, "CANCELLED": 1}

    async def names(filter: dict[str, Any]) -> list[str]:
        data = await portfolio.api.data(LISTED, {"filter": filter}, viewer)
        return sorted(edge["node"]["name"] for edge in data["services"]["edges"])

    assert await names({"sections": ["RETIRED"]}) == ["Retired one"]
    assert await names({"sections": ["TERMINATED"]}) == [
        "Cancelled one", "Rejected one", "Withdrawn one"]
    assert await names({"sections": ["CATALOGUE"]}) == ["Retiring one"]
    assert await names({"stages": ["WITHDRAWN", "CANCELLED"]}) == [
        "Cancelled one", "Withdrawn one"]
    assert await names({"sections": ["TERMINATED"], "stages": ["RETIRED"]}) == []
