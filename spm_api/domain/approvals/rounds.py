"""Approval rounds: opening and closing them, building the ballot, asking the chosen
rules for their verdicts and combining those into the round's status."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import utcnow
from spm_api.domain.finance.books import Books, books_of
from spm_api.domain.finance.business_case import MonthlyBudget, monthly_budgets, service_facts
from spm_api.models import (
    ApprovalRound,
    ApprovalRuleChoice,
    BusinessCaseYear,
    Person,
    PersonRole,
    PluginSettings,
    Service,
    Vote,
)
from spm_api.plugins.contracts import APPROVAL_RULES, EVALUATE, Ballot, CastVote, Voter
from spm_api.plugins.host import PluginHost
from spm_api.plugins.registry import builtin_default
from spm_api.vocabulary.enums import ApprovalStatus, Role
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.stages import Stage

V = TypeVar("V")

#: The rules of an organisation that has not chosen any.
DEFAULT_RULES: tuple[str, ...] = (builtin_default(APPROVAL_RULES),)


@dataclass(frozen=True, slots=True)
class RuleVerdict:
    rule: str
    plugin: str
    status: ApprovalStatus
    explanation: str


@dataclass(frozen=True, slots=True)
class RoundResult:
    """The round's status and every chosen rule's verdict behind it."""

    status: ApprovalStatus
    verdicts: tuple[RuleVerdict, ...]

    def explanation(self) -> str:
        return "; ".join(f"{verdict.rule}: {verdict.explanation}" for verdict in self.verdicts)

    def frozen(self) -> list[dict[str, str]]:
        return [
            {"rule": v.rule, "plugin": v.plugin, "status": v.status.value,
             "explanation": v.explanation}
            for v in self.verdicts
        ]

    @classmethod
    def thawed(cls, outcome: ApprovalStatus, verdicts: Iterable[Mapping[str, str]]
               ) -> RoundResult:
        return cls(outcome, tuple(
            RuleVerdict(v["rule"], v["plugin"], ApprovalStatus(v["status"]), v["explanation"])
            for v in verdicts
        ))


def combine(verdicts: Sequence[RuleVerdict]) -> ApprovalStatus:
    """Every chosen rule must approve; any one rejecting rejects."""
    statuses = {verdict.status for verdict in verdicts}
    if ApprovalStatus.REJECTED in statuses:
        return ApprovalStatus.REJECTED
    if verdicts and statuses == {ApprovalStatus.APPROVED}:
        return ApprovalStatus.APPROVED
    return ApprovalStatus.PENDING


# --- the data a ballot is built from --------------------------------------------


async def chosen_rules(session: AsyncSession, organisation_id: int) -> tuple[str, ...]:
    rows = await session.scalars(
        select(ApprovalRuleChoice.rule)
        .where(ApprovalRuleChoice.organisation_id == organisation_id)
        .order_by(ApprovalRuleChoice.rule)
    )
    return tuple(rows) or DEFAULT_RULES


async def settings_by_plugin(session: AsyncSession, organisation_id: int
                             ) -> dict[str, Mapping[str, Any]]:
    rows = await session.scalars(
        select(PluginSettings).where(PluginSettings.organisation_id == organisation_id)
    )
    return {row.plugin: row.settings for row in rows}


async def decision_makers(session: AsyncSession, organisation_id: int) -> tuple[Voter, ...]:
    """Every current decision maker (deactivated people are not), with all the roles
    each holds."""
    holders = (
        select(PersonRole.person_id)
        .join(Person, Person.id == PersonRole.person_id)
        .where(Person.organisation_id == organisation_id,
               PersonRole.role == Role.DECISION_MAKER, Person.deactivated_at.is_(None))
    )
    rows = await session.execute(
        select(Person.id, Person.name, PersonRole.role)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(Person.id.in_(holders))
        .order_by(Person.id)
    )
    names: dict[int, str] = {}
    roles: dict[int, set[Role]] = {}
    for person_id, name, role in rows:
        names[person_id] = name
        roles.setdefault(person_id, set()).add(role)
    return tuple(Voter(pid, names[pid], frozenset(roles[pid])) for pid in names)


async def votes_of_round(session: AsyncSession, round_id: int) -> list[Vote]:
    rows = await session.scalars(select(Vote).where(Vote.round_id == round_id).order_by(Vote.id))
    return list(rows)


def current_votes(votes: Iterable[V], id_of: Callable[[V], int] = attrgetter("id"),
                  voter_of: Callable[[V], int] = attrgetter("voter_id")) -> list[V]:
    """The latest vote of each voter, in the order they were cast (votes as rows, or as
    records with ``id_of`` and ``voter_of`` to read them)."""
    latest: dict[int, V] = {}
    for vote in sorted(votes, key=id_of):
        latest.pop(voter_of(vote), None)
        latest[voter_of(vote)] = vote
    return list(latest.values())


def build_ballot(service: Service, votes: Iterable[Vote], voters: Sequence[Voter],
                 books: Books, budget: MonthlyBudget = (),
                 case: Sequence[BusinessCaseYear] = ()) -> Ballot:
    by_person = {voter.person_id: voter for voter in voters}
    return Ballot(
        service=service_facts(service, books, budget, case),
        decision_makers=tuple(voters),
        votes=tuple(
            CastVote(by_person[vote.voter_id], vote.decision, vote.comment, vote.cast_at)
            for vote in current_votes(votes)
            if vote.voter_id in by_person
        ),
    )


async def evaluate(plugins: PluginHost, ballot: Ballot, rules: Sequence[str],
                   settings: Mapping[str, Mapping[str, Any]]) -> RoundResult:
    """Ask each chosen rule; a rule whose plugin is not loaded holds the round PENDING."""
    verdicts = []
    for rule in rules:
        registered = plugins.registry(APPROVAL_RULES).get(rule)
        if registered is None:
            verdicts.append(RuleVerdict(
                rule, "", ApprovalStatus.PENDING,
                f"the rule {rule!r} is not installed on this server, so it cannot approve"))
            continue
        verdict = await plugins.call(EVALUATE, registered, ballot,
                                     settings.get(registered.plugin, {}))
        verdicts.append(RuleVerdict(rule, registered.plugin, verdict.status, verdict.explanation))
    return RoundResult(combine(verdicts), tuple(verdicts))


@dataclass(frozen=True, slots=True)
class ApprovalSetup:
    """An organisation's side of every ballot: its voters, rules and plugin settings."""

    decision_makers: tuple[Voter, ...]
    rules: tuple[str, ...]
    settings: Mapping[str, Mapping[str, Any]]
    books: Books


async def approval_setup(session: AsyncSession, organisation_id: int) -> ApprovalSetup:
    return ApprovalSetup(await decision_makers(session, organisation_id),
                         await chosen_rules(session, organisation_id),
                         await settings_by_plugin(session, organisation_id),
                         await books_of(session, organisation_id))


async def result_of(plugins: PluginHost, service: Service, approval_round: ApprovalRound,
                    votes: Iterable[Vote], setup: ApprovalSetup, budget: MonthlyBudget,
                    case: Sequence[BusinessCaseYear] = ()) -> RoundResult:
    """The round's result: frozen once closed, evaluated afresh while open."""
    if approval_round.outcome is not None:
        return RoundResult.thawed(approval_round.outcome, approval_round.verdicts or [])
    ballot = build_ballot(service, votes, setup.decision_makers, setup.books, budget, case)
    return await evaluate(plugins, ballot, setup.rules, setup.settings)


@dataclass(frozen=True, slots=True)
class RoundEvaluation:
    """A round's result with the votes and decision makers it was worked out from."""

    votes: list[Vote]
    setup: ApprovalSetup
    result: RoundResult


async def evaluate_round(session: AsyncSession, plugins: PluginHost, service: Service,
                         approval_round: ApprovalRound) -> RoundEvaluation:
    votes = await votes_of_round(session, approval_round.id)
    setup = await approval_setup(session, service.organisation_id)
    [budget] = await monthly_budgets(session=session, organisation_id=service.organisation_id,
                                     ids=[service.id])
    case = list(await session.scalars(select(BusinessCaseYear).where(
        BusinessCaseYear.organisation_id == service.organisation_id,
        BusinessCaseYear.service_id == service.id)))
    result = await result_of(plugins, service, approval_round, votes, setup, budget, case)
    return RoundEvaluation(votes, setup, result)


# --- the round's life ----------------------------------------------------------


def open_round(session: AsyncSession, service: Service) -> ApprovalRound:
    approval_round = ApprovalRound(organisation_id=service.organisation_id, service_id=service.id)
    session.add(approval_round)
    return approval_round


async def lock_open_round(session: AsyncSession, service: Service) -> ApprovalRound:
    """The service's open round, locked until the transaction ends, so votes and the
    decision that closes the round happen one after another (PostgreSQL)."""
    if service.stage is not Stage.APPROVAL:
        raise fail(ErrorCode.STAGE_LOCKED,
                   f"votes are cast in APPROVAL; the service is {service.stage.value}",
                   "serviceId")
    approval_round = await session.scalar(
        select(ApprovalRound)
        .where(ApprovalRound.service_id == service.id, ApprovalRound.closed_at.is_(None))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if approval_round is None:
        # The service was read in APPROVAL, yet its round closed meanwhile: another
        # request decided it between our read and our lock.
        raise fail(ErrorCode.CONFLICT,
                   "the approval round was decided at the same time; reload and try again")
    return approval_round


def close_round(approval_round: ApprovalRound, result: RoundResult) -> None:
    approval_round.closed_at = utcnow()
    approval_round.outcome = result.status
    approval_round.verdicts = result.frozen()
