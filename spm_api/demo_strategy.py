"""Demo strategy: every proposal a three-year business case (whose totals are its
estimates), risks on the services in the pipeline and the catalogue, strategic
objectives with services aligned to all but one, a target mix, and benefits realised
by the live services, all through the same domain commands as the API."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor
from spm_api.domain.finance.books import books_of
from spm_api.domain.strategy import cases, objectives, risks, settings
from spm_api.models import Service
from spm_api.vocabulary.enums import RiskStatus
from spm_api.vocabulary.money import Money
from spm_api.vocabulary.periods import Period
from spm_api.vocabulary.stages import CLOSED_STAGES, Stage

#: Objectives, each with the service themes aligned to it (the last has none: the
#: investment report lists it as an objective nothing is invested in).
OBJECTIVES: list[tuple[str, str, tuple[str, ...]]] = [
    ("Lower operating cost", "Spend less on running the estate each year",
     ("Hosting", "Payroll", "Service Desk")),
    ("Digital self-service", "Customers and staff help themselves, online",
     ("Customer Portal", "Field Mobility", "Identity Platform")),
    ("Data-driven decisions", "Every department decides on shared, trusted data",
     ("Data Warehouse", "Collaboration Suite")),
    ("Carbon neutral IT", "No net emissions from IT by 2030", ()),
]
#: Risks: description, likelihood, impact, mitigation.
RISKS = [
    ("Key supplier fails to deliver on time", 3, 4, "penalty clauses and a second bidder"),
    ("Too few people know the platform", 4, 3, "pairing and runbooks"),
    ("Personal data exposed in a breach", 2, 5, "encryption at rest and yearly audit"),
]
TARGET_MIX = ("0.6", "0.25", "0.15")
ZERO = Decimal(0)


def case_of(service: Service, first_year: int) -> list[cases.YearInput]:
    """Three years whose totals are the service's estimates: 60% of the cost invested
    in the first year, 20% running cost in each of the next two; 40% and 60% of the
    benefit in those two."""
    cost = service.estimated_cost or ZERO
    benefit = service.expected_benefit or ZERO

    def eur(amount: Decimal) -> Money:
        return Money(amount.quantize(Decimal("0.01")), "EUR")

    return [
        cases.YearInput(first_year, eur(cost * Decimal("0.6")), eur(ZERO), eur(ZERO)),
        cases.YearInput(first_year + 1, eur(ZERO), eur(cost * Decimal("0.2")),
                        eur(benefit * Decimal("0.4"))),
        cases.YearInput(first_year + 2, eur(ZERO),
                        eur(cost - (cost * Decimal("0.6")).quantize(Decimal("0.01"))
                            - (cost * Decimal("0.2")).quantize(Decimal("0.01"))),
                        eur(benefit - (benefit * Decimal("0.4")).quantize(Decimal("0.01")))),
    ]


async def seed_case(session: AsyncSession, contributor: Actor, service: Service,
                    today: date) -> None:
    """The business case of a new demo proposal, from this fiscal year on."""
    books = await books_of(session, contributor.organisation_id)
    first_year = books.fiscal_year_of(Period(today.year, today.month))
    await cases.set_business_case(session, contributor, service.id,
                                  case_of(service, first_year))


async def seed_strategy(session: AsyncSession, admin: Actor, manager: Actor,
                        finance: Actor, seeded: Sequence[Service], today: date) -> None:
    await settings.set_discount_rate(session, admin, "0.08")
    await settings.set_target_mix(session, manager, *TARGET_MIX)
    for name, description, themes in OBJECTIVES:
        objective = await objectives.create_objective(session, manager, name, description)
        for number, service in enumerate(seeded):
            if service.stage not in CLOSED_STAGES and service.name.rsplit(" ", 1)[0] in themes:
                weight = ("1", "0.75", "0.5")[number % 3]
                await objectives.align_service(session, manager, service.id, objective.id,
                                               weight)
    books = await books_of(session, finance.organisation_id)
    this_year = books.fiscal_year_of(Period(today.year, today.month))
    for number, service in enumerate(seeded):
        if service.stage in CLOSED_STAGES:
            continue
        for description, likelihood, impact, mitigation in RISKS[:1 + number % len(RISKS)]:
            risk = await risks.add_risk(session, manager, service.id,
                                        description=description, likelihood=likelihood,
                                        impact=impact, owner_id=manager.person_id,
                                        mitigation=mitigation)
            if service.stage is Stage.LIVE and likelihood == 4:
                await risks.update_risk(session, manager, risk.id, likelihood=2,
                                        status=RiskStatus.MITIGATED)
        if service.stage is Stage.LIVE:
            realised = (service.expected_benefit or ZERO) * Decimal("0.35")
            await cases.record_realised_benefit(
                session, finance, service.id, this_year,
                Money(realised.quantize(Decimal("0.01")), "EUR"),
                "first months live, from the department's figures")
