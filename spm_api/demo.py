"""Demo data: an organisation with a person in every role and services in every stage,
each with a business case, risks and alignment to strategic objectives.

Every stage is reached through the real domain commands and guards: the demo's
decision makers vote, the approval rules decide, the portfolio manager charters.
"""

from __future__ import annotations

import calendar
import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.demo_finance import recent_months, seed_finance
from spm_api.demo_market import seed_market
from spm_api.demo_reporting import seed_reporting
from spm_api.demo_stewardship import seed_review, seed_stewardship
from spm_api.demo_strategy import seed_case, seed_strategy
from spm_api.domain.actor import Actor
from spm_api.domain.approvals.voting import cast_vote
from spm_api.domain.portfolio import services as commands
from spm_api.domain.portfolio.transitions import transition_service
from spm_api.domain.tenancy import create_organisation, create_person
from spm_api.domain.tokens import issue_token, revoke_tokens
from spm_api.models import Organisation, Person, PersonRole, Service
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.enums import Decision, InvestmentCategory, Necessity, Position, Role
from spm_api.vocabulary.errors import DomainError, ErrorCode, Problem
from spm_api.vocabulary.money import Money
from spm_api.vocabulary.stages import Stage

DEMO_SLUG = "demo"
#: Labels of the tokens the demo hands out: printed by the CLI, or put in GraphiQL's
#: headers by a server in demo mode. Issuing new ones revokes the earlier ones.
PRINTED_LABEL = "demo"
CONSOLE_LABEL = "demo-graphiql"
CONSOLE_PERSON = "portfolio@demo.example"

PEOPLE: list[tuple[str, str, list[Role]]] = [
    ("Ada Admin", "admin@demo.example", [Role.ADMIN]),
    ("Pia Portfolio", "portfolio@demo.example", [Role.PORTFOLIO_MANAGER]),
    ("Carl Contributor", "contributor@demo.example", [Role.CONTRIBUTOR]),
    ("Dana Decider", "dana@demo.example", [Role.DECISION_MAKER]),
    ("Dev Decider", "dev@demo.example", [Role.DECISION_MAKER]),
    ("Dora Decider", "dora@demo.example", [Role.DECISION_MAKER, Role.FINANCE]),
    ("Finn Finance", "finance@demo.example", [Role.FINANCE]),
    ("Vic Viewer", "viewer@demo.example", [Role.VIEWER]),
]

THEMES = [
    ("Service Desk", "Single point of contact for incidents and requests"),
    ("Identity Platform", "Single sign-on and lifecycle of accounts"),
    ("Data Warehouse", "Reporting and analytics across departments"),
    ("Hosting", "Managed virtual machines and containers"),
    ("Collaboration Suite", "Mail, chat and shared documents"),
    ("Field Mobility", "Mobile apps for field engineers"),
    ("Payroll", "Monthly payroll and expense processing"),
    ("Customer Portal", "Self-service portal for external customers"),
]
STAGE_CYCLE = [
    Stage.DEFINITION, Stage.ANALYSIS, Stage.APPROVAL, Stage.CHARTERED,
    Stage.LIVE, Stage.RETIRING, Stage.LIVE, Stage.RETIRED, Stage.REJECTED,
    Stage.WITHDRAWN, Stage.LIVE, Stage.CANCELLED,
]
#: Why the demo's proposals and projects ended, and its services retire.
WITHDRAWN_BECAUSE = "the department chose a market product instead"
CANCELLED_BECAUSE = "the merger made the project redundant"
RETIRING_BECAUSE = "replaced by a shared platform"


def _last_day(month_start: date) -> date:
    return month_start.replace(day=calendar.monthrange(month_start.year,
                                                       month_start.month)[1])


def planned_end(target: Stage, today: date) -> date:
    """A retiring demo service ends at the end of next month; a retired one ended three
    months ago, in the month the demo's books close."""
    if target is Stage.RETIRED:
        first = recent_months(today)[0]
        return _last_day(date(first.year, first.month, 1))
    next_month = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    return _last_day(next_month)


async def _people(session: AsyncSession, organisation: Organisation) -> list[dict[str, Any]]:
    """Each person of ``organisation`` with their roles, in the order they were made."""
    people = (await session.scalars(
        select(Person).where(Person.organisation_id == organisation.id).order_by(Person.id)
    )).all()
    listed = []
    for person in people:
        roles = (await session.scalars(
            select(PersonRole.role).where(PersonRole.person_id == person.id)
        )).all()
        listed.append({"id": person.id, "name": person.name, "email": person.email,
                       "roles": sorted(role.value for role in roles)})
    return listed


async def _issue_tokens(session: AsyncSession, organisation: Organisation
                        ) -> list[dict[str, Any]]:
    """A fresh printed token for everyone in ``organisation``; earlier ones are revoked."""
    people = await _people(session, organisation)
    await revoke_tokens(session, [person["id"] for person in people], PRINTED_LABEL)
    return [{**{key: value for key, value in person.items() if key != "id"},
             "token": await issue_token(session, person["id"], label=PRINTED_LABEL)}
            for person in people]


async def reissue_tokens(session: AsyncSession) -> dict[str, Any]:
    """New tokens for the demo organisation's people, revoking the ones printed before."""
    organisation = await _demo_organisation(session)
    if organisation is None:
        raise DomainError(Problem(ErrorCode.NOT_FOUND,
                                  "there is no demo organisation yet; run `spm-api demo`"))
    return {
        "message": f"new tokens for demo organisation {organisation.slug!r}; "
                   "the ones printed before are revoked",
        "organisation": {"name": organisation.name, "slug": organisation.slug},
        "people": await _issue_tokens(session, organisation),
    }


async def console_token(session: AsyncSession) -> str | None:
    """A token of the demo portfolio manager for GraphiQL in demo mode (the previous
    console token is revoked), or None when there is no demo organisation."""
    organisation = await _demo_organisation(session)
    if organisation is None:
        return None
    person_id = await session.scalar(select(Person.id).where(
        Person.organisation_id == organisation.id, Person.email == CONSOLE_PERSON))
    if person_id is None:
        return None
    await revoke_tokens(session, [person_id], CONSOLE_LABEL)
    return await issue_token(session, person_id, label=CONSOLE_LABEL)


async def _demo_organisation(session: AsyncSession) -> Organisation | None:
    organisation: Organisation | None = await session.scalar(
        select(Organisation).where(Organisation.slug == DEMO_SLUG))
    return organisation


async def _seed_service(session: AsyncSession, plugins: PluginHost, number: int,
                        target: Stage, contributor: Actor, manager: Actor,
                        deciders: list[Actor]) -> Service:
    theme, summary = THEMES[number % len(THEMES)]
    service = await commands.create_service(
        session, contributor,
        name=f"{theme} {number + 1:03d}",
        summary=summary,
        objectives=f"Deliver {theme.lower()} to every department at agreed service levels",
        investment_category=list(InvestmentCategory)[number % 3],
        estimated_cost=Money(Decimal(25_000 + 7_500 * (number % 9)), "EUR"),
        expected_benefit=Money(Decimal(20_000 + 12_500 * (number % 7)), "EUR"),
    )
    await seed_case(session, contributor, service, date.today())
    requirements = [
        await commands.add_requirement(session, contributor, service.id, text)
        for text in (f"{theme} available 99.5% of business hours",
                     f"{theme} integrated with the identity platform",
                     f"{theme} usable in English and French")
    ]
    if target is Stage.DEFINITION:
        return service
    await transition_service(session, manager, plugins, service.id, Stage.ANALYSIS,
                             reason="scope is clear")
    if target is Stage.WITHDRAWN:
        await transition_service(session, manager, plugins, service.id, Stage.WITHDRAWN,
                                 reason=WITHDRAWN_BECAUSE)
        return service
    for index, requirement in enumerate(requirements):
        necessity = Necessity.NOT_NECESSARY if index == 2 else Necessity.NECESSARY
        await commands.assess_requirement(session, manager, requirement.id, necessity,
                                          "agreed in the analysis workshop")
    for decider, position in zip(deciders, itertools.cycle(list(Position)), strict=False):
        await commands.add_stakeholder_input(session, decider, service.id, position,
                                             f"{position.value.lower()}: see workshop notes")
    if target is Stage.ANALYSIS:
        return service
    await transition_service(session, manager, plugins, service.id, Stage.APPROVAL,
                             reason="analysis complete")
    first, second, third = deciders
    if target is Stage.APPROVAL:
        await cast_vote(session, first, plugins, service.id, Decision.APPROVE, "good value")
        return service
    if target is Stage.REJECTED:
        await cast_vote(session, first, plugins, service.id, Decision.REJECT, "too costly")
        await cast_vote(session, second, plugins, service.id, Decision.REJECT,
                        "duplicates an existing service")
        return service
    await cast_vote(session, first, plugins, service.id, Decision.APPROVE, "good value")
    await cast_vote(session, third, plugins, service.id, Decision.ABSTAIN, "no view")
    await cast_vote(session, second, plugins, service.id, Decision.APPROVE, "needed")
    await transition_service(session, manager, plugins, service.id, Stage.CHARTERED,
                             reason="approved by the decision makers")
    if target is Stage.CHARTERED:
        return service
    if target is Stage.CANCELLED:
        await transition_service(session, manager, plugins, service.id, Stage.CANCELLED,
                                 reason=CANCELLED_BECAUSE)
        return service
    await transition_service(session, manager, plugins, service.id, Stage.LIVE)
    if target in (Stage.RETIRING, Stage.RETIRED):
        await transition_service(session, manager, plugins, service.id, Stage.RETIRING,
                                 reason=RETIRING_BECAUSE,
                                 planned_end_date=planned_end(target, date.today()))
    return service


async def seed_demo(session: AsyncSession, plugins: PluginHost, services: int = 40,
                    once: bool = False) -> dict[str, Any]:
    """Create the demo organisation and return its people with their tokens; with
    ``once``, an existing demo is left as it is and no token is issued (tokens are
    printed once per organisation: ``reissue_tokens`` makes new ones on purpose)."""
    existing = await _demo_organisation(session)
    if existing is not None and once:
        return {
            "message": f"demo organisation {existing.slug!r} already present; its tokens "
                       "were printed when it was created (`spm-api demo tokens` issues new "
                       "ones and revokes those)",
            "created": False,
            "organisation": {"name": existing.name, "slug": existing.slug},
            "people": [{key: value for key, value in person.items() if key != "id"}
                       for person in await _people(session, existing)],
        }
    slug = DEMO_SLUG if existing is None else f"{DEMO_SLUG}-{await _next_suffix(session)}"
    organisation = await create_organisation(session, "Demo Organisation", slug)
    actors: dict[str, Actor] = {}
    for name, email, roles in PEOPLE:
        person = await create_person(session, organisation.id, name,
                                     email.replace("demo.example", f"{slug}.example"), roles)
        actors[email] = Actor(person.id, organisation.id, frozenset(roles))
    contributor = actors["contributor@demo.example"]
    manager = actors["portfolio@demo.example"]
    deciders = [actors[e] for e in ("dana@demo.example", "dev@demo.example", "dora@demo.example")]
    targets = [STAGE_CYCLE[number % len(STAGE_CYCLE)] for number in range(services)]
    seeded = [
        await _seed_service(session, plugins, number, target, contributor, manager, deciders)
        for number, target in enumerate(targets)
    ]
    await seed_finance(session, plugins, actors["finance@demo.example"], seeded)
    # Retired once the books of the month they ended in are closed (seed_finance did).
    for service, target in zip(seeded, targets, strict=True):
        if target is Stage.RETIRED:
            await transition_service(session, manager, plugins, service.id, Stage.RETIRED,
                                     reason="the last month is closed")
    await seed_stewardship(session, plugins, manager, seeded)
    await seed_strategy(session, actors["admin@demo.example"], manager,
                        actors["finance@demo.example"], seeded, date.today())
    await seed_review(session, plugins, manager, deciders, seeded)
    await seed_reporting(session, plugins, manager, deciders[0], deciders[1],
                         actors["finance@demo.example"], seeded)
    await seed_market(session, plugins, manager, actors["finance@demo.example"], seeded,
                      date.today())
    return {
        "message": f"demo organisation {slug!r} created with {services} services",
        "created": True,
        "organisation": {"name": organisation.name, "slug": organisation.slug},
        "people": await _issue_tokens(session, organisation),
    }


async def _next_suffix(session: AsyncSession) -> int:
    slugs = (await session.scalars(
        select(Organisation.slug).where(Organisation.slug.like(f"{DEMO_SLUG}%"))
    )).all()
    return len(slugs) + 1
