"""Demo finance data: customers, budgets, actual costs, usage, charging policies and one
issued, closed month, all recorded through the same domain commands as the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor
from spm_api.domain.finance import accounting, budgets, charging, statements
from spm_api.domain.finance.customers import create_customer
from spm_api.domain.finance.service_end import last_month
from spm_api.models import Service
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.enums import CustomerKind
from spm_api.vocabulary.money import Money
from spm_api.vocabulary.periods import Period
from spm_api.vocabulary.stages import CLOSED_STAGES, Stage

CUSTOMERS = [
    ("Sales", CustomerKind.INTERNAL_DEPARTMENT),
    ("Human Resources", CustomerKind.INTERNAL_DEPARTMENT),
    ("Engineering", CustomerKind.INTERNAL_DEPARTMENT),
    ("Northwind Traders", CustomerKind.EXTERNAL),
]

#: Charging policies the live services cycle through (model, parameters).
POLICIES: list[tuple[str, dict[str, object]]] = [
    ("cost_recovery", {}),
    ("cost_plus", {"markup_percent": "8"}),
    ("price_per_unit", {"unit_price": "0.35"}),
    ("showback", {}),
]


def recent_months(today: date, count: int = 3) -> list[Period]:
    """The ``count`` months before this one, oldest first."""
    this_month = Period(today.year, today.month)
    return [this_month.shifted(-offset) for offset in range(count, 0, -1)]


def _delivered_in(service: Service, month: Period) -> bool:
    """Whether the service is still delivered in ``month`` (no end, or a later one)."""
    last = last_month(service)
    return last is None or last >= month


async def seed_finance(session: AsyncSession, plugins: PluginHost, finance: Actor,
                       services: list[Service], today: date | None = None) -> None:
    today = today or date.today()
    months = recent_months(today)
    this_month = Period(today.year, today.month)
    customers = [await create_customer(session, finance, name, kind)
                 for name, kind in CUSTOMERS]
    # Used and charged: live services, and retiring ones still delivered this month.
    live = [service for service in services
            if service.stage in (Stage.LIVE, Stage.RETIRING)
            and _delivered_in(service, this_month)]
    for number, service in enumerate(services):
        if service.stage in CLOSED_STAGES or not _delivered_in(service, this_month):
            continue
        monthly = Decimal(2_000 + 250 * (number % 7))
        for month in months:
            for category, share in (("labour", Decimal("0.7")), ("software", Decimal("0.3"))):
                await budgets.set_budget_line(session, finance, service.id, str(month),
                                              category, Money(monthly * share, "EUR"))
    for number, service in enumerate(live):
        model, parameters = POLICIES[number % len(POLICIES)]
        await charging.set_charging_policy(session, finance, plugins, service.id, model,
                                           parameters)
        for offset, month in enumerate(months):
            cost = Decimal(1_800 + 310 * ((number + offset) % 5))
            await accounting.record_cost(
                session, finance, service.id, booked_on=date(month.year, month.month, 25),
                category="labour", amount=Money(cost, "EUR"), description="monthly run cost")
            for index, customer in enumerate(customers):
                await accounting.record_usage(
                    session, finance, customer.id, service.id, period=str(month),
                    amount=str(40 + 15 * ((index + number + offset) % 4)), unit_name="GB")
    first = str(months[0])
    await statements.issue_statements(session, finance, plugins, first)
    await statements.close_period(session, finance, first)
