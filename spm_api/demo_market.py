"""Demo market: two market spaces with their segments, the demo's customers placed in
them, customer needs (some met by live or chartered services, some not), three
offerings with service levels and price lists, and subscriptions, all through the same
domain commands as the API."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor
from spm_api.domain.finance.customers import customers_of
from spm_api.domain.market import needs, offerings, spaces, subscriptions
from spm_api.models import MarketSegment, Service
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.periods import Period
from spm_api.vocabulary.stages import Stage

#: Market spaces, each with its segments (name, free text about them).
SPACES: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("Workplace IT", "What staff need to do their daily work",
     [("Office staff", "hybrid work, meetings, documents"),
      ("Field staff", "mobile, often offline")]),
    ("Digital business", "Services the business sells or runs with partners",
     [("External partners", "integration, hosting, reporting")]),
]
#: Customer → the segment it belongs to.
CUSTOMER_SEGMENTS = {"Sales": "Field staff", "Human Resources": "Office staff",
                     "Engineering": "Office staff", "Northwind Traders": "External partners"}
#: Needs: outcome, importance, segment (or None: the customer in ``customer``).
NEEDS: list[tuple[str, int, str | None, str | None]] = [
    ("Get help within four hours, any working day", 5, "Office staff", None),
    ("Work on customer sites without a network", 4, "Field staff", None),
    ("Monthly usage figures in the partner portal", 3, "External partners", None),
    ("A laptop ready on a new hire's first day", 4, None, "Human Resources"),
    ("Book meeting rooms from a phone", 2, "Office staff", None),
    ("Carbon report per department", 3, None, "Engineering"),
]


async def seed_market(session: AsyncSession, plugins: PluginHost, manager: Actor,
                      finance: Actor, seeded: Sequence[Service], today: date) -> None:
    segments: dict[str, MarketSegment] = {}
    for space_name, description, parts in SPACES:
        space = await spaces.create_market_space(session, manager, space_name, description)
        for name, summary in parts:
            segments[name] = await spaces.create_market_segment(session, manager, space.id,
                                                                name, summary)
    customers = {row.name: row for row in await customers_of(session, manager.organisation_id)}
    for name, placed in CUSTOMER_SEGMENTS.items():
        if name in customers:
            await spaces.set_customer_segment(session, finance, customers[name].id,
                                              segments[placed].id)
    live = [service for service in seeded if service.stage is Stage.LIVE]
    committed = [service for service in seeded if service.stage is Stage.CHARTERED]
    pipeline = [service for service in seeded
                if service.stage in (Stage.DEFINITION, Stage.ANALYSIS)]
    recorded = []
    for outcome, importance, segment_name, customer_name in NEEDS:
        if customer_name is not None and customer_name not in customers:
            continue
        recorded.append(await needs.record_need(
            session, manager, outcome, importance,
            segment_id=None if segment_name is None else segments[segment_name].id,
            customer_id=None if customer_name is None else customers[customer_name].id))
    if not live:
        return
    first, second = live[0], live[-1]
    this_month = Period(today.year, today.month)
    # Offerings: the workplace bundle of two live services (in the catalogue), field
    # connectivity with a proposal in it (not yet), partner hosting (in the catalogue).
    workplace = await offerings.create_offering(
        session, manager, "Workplace essentials", segments["Office staff"].id,
        [first.id, second.id],
        [offerings.LevelInput(first.id, "99.8", name="Availability"),
         offerings.LevelInput(second.id, "4", name="Incident resolution time"),
         offerings.LevelInput(second.id, "1", name="Laptop delivered", unit="days")],
        "Help desk and the everyday tools, one price per department")
    await offerings.set_price_list(session, finance, plugins, workplace.id, "fixed_price",
                                   {"price": "450.00"})
    field = await offerings.create_offering(
        session, manager, "Field connectivity", segments["Field staff"].id,
        [first.id, *(service.id for service in pipeline[:1])],
        [offerings.LevelInput(first.id, "2", name="Sync delay", unit="minutes")])
    await offerings.set_price_list(session, finance, plugins, field.id, "price_per_unit",
                                   {"unit_price": "0.08", "unit": "GB"})
    partner = await offerings.create_offering(
        session, manager, "Partner hosting", segments["External partners"].id, [second.id],
        [offerings.LevelInput(second.id, None, name="Availability")])
    await offerings.set_price_list(session, finance, plugins, partner.id, "cost_plus",
                                   {"markup_percent": "12"})
    # Needs met: help (a live service), offline work (through an offering with a live
    # service), the partner figures (a chartered project); the rest stay unmet.
    await needs.link_need(session, manager, recorded[0].id, service_id=first.id)
    await needs.link_need(session, manager, recorded[1].id, offering_id=field.id)
    if committed:
        await needs.link_need(session, manager, recorded[2].id, service_id=committed[0].id)
    if pipeline:
        await needs.link_need(session, manager, recorded[4].id, service_id=pipeline[0].id)
    plans = [("Human Resources", workplace, 11, None), ("Engineering", workplace, 5, None),
             ("Sales", field, 8, 2), ("Northwind Traders", partner, 3, None)]
    for name, offering, months_ago, ended_ago in plans:
        if name not in customers:
            continue
        await subscriptions.subscribe(
            session, finance, customers[name].id, offering.id,
            str(this_month.shifted(-months_ago)),
            None if ended_ago is None else str(this_month.shifted(-ended_ago)))
