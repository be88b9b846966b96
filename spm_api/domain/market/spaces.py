"""Market spaces, the segments in them, and which segment a customer belongs to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor, Permission
from spm_api.domain.reads import load_owned
from spm_api.models import Customer, MarketSegment, MarketSpace
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.validation import optional_text, required_text


async def _unique(session: AsyncSession, actor: Actor, model: Any, name: str,
                  what: str, except_id: int | None = None) -> None:
    query = select(model.id).where(model.organisation_id == actor.organisation_id,
                                   model.name == name)
    if except_id is not None:
        query = query.where(model.id != except_id)
    if await session.scalar(query) is not None:
        raise fail(ErrorCode.CONFLICT, f"a {what} named {name!r} already exists", "name")


async def market_spaces(session: AsyncSession, actor: Actor) -> list[MarketSpace]:
    """The organisation's market spaces, by name."""
    return list(await session.scalars(
        select(MarketSpace).where(MarketSpace.organisation_id == actor.organisation_id)
        .order_by(MarketSpace.name)))


async def market_segments(session: AsyncSession, actor: Actor) -> list[MarketSegment]:
    """The organisation's segments, by name."""
    return list(await session.scalars(
        select(MarketSegment).where(MarketSegment.organisation_id == actor.organisation_id)
        .order_by(MarketSegment.name)))


async def create_market_space(session: AsyncSession, actor: Actor, name: str,
                              description: str = "") -> MarketSpace:
    actor.require(Permission.MANAGE_MARKET)
    name = required_text(name, "name", 200)
    await _unique(session, actor, MarketSpace, name, "market space")
    space = MarketSpace(organisation_id=actor.organisation_id, name=name,
                        description=optional_text(description, "description", 4000))
    session.add(space)
    await session.flush()
    return space


async def update_market_space(session: AsyncSession, actor: Actor, space_id: int, *,
                              name: str | None = None, description: str | None = None
                              ) -> MarketSpace:
    actor.require(Permission.MANAGE_MARKET)
    space = await load_owned(session, MarketSpace, actor.organisation_id, space_id,
                             "marketSpaceId")
    if name is not None:
        name = required_text(name, "name", 200)
        await _unique(session, actor, MarketSpace, name, "market space", space.id)
        space.name = name
    if description is not None:
        space.description = optional_text(description, "description", 4000)
    await session.flush()
    return space


async def create_market_segment(session: AsyncSession, actor: Actor, space_id: int,
                                name: str, needs: str = "") -> MarketSegment:
    """A segment of the market space; ``needs`` is free text about it (the needs it
    records one by one are customer needs)."""
    actor.require(Permission.MANAGE_MARKET)
    space = await load_owned(session, MarketSpace, actor.organisation_id, space_id,
                             "marketSpaceId")
    name = required_text(name, "name", 200)
    await _unique(session, actor, MarketSegment, name, "segment")
    segment = MarketSegment(organisation_id=actor.organisation_id, market_space_id=space.id,
                            name=name, needs=optional_text(needs, "needs", 4000))
    session.add(segment)
    await session.flush()
    return segment


async def update_market_segment(session: AsyncSession, actor: Actor, segment_id: int, *,
                                name: str | None = None, needs: str | None = None,
                                space_id: int | None = None) -> MarketSegment:
    actor.require(Permission.MANAGE_MARKET)
    segment = await load_owned(session, MarketSegment, actor.organisation_id, segment_id,
                               "segmentId")
    if space_id is not None:
        space = await load_owned(session, MarketSpace, actor.organisation_id, space_id,
                                 "marketSpaceId")
        segment.market_space_id = space.id
    if name is not None:
        name = required_text(name, "name", 200)
        await _unique(session, actor, MarketSegment, name, "segment", segment.id)
        segment.name = name
    if needs is not None:
        segment.needs = optional_text(needs, "needs", 4000)
    await session.flush()
    return segment


async def set_customer_segment(session: AsyncSession, actor: Actor, customer_id: int,
                               segment_id: int | None) -> Customer:
    """Put the customer in a segment of the organisation, or in none (None)."""
    actor.require(Permission.MANAGE_CUSTOMERS)
    customer = await load_owned(session, Customer, actor.organisation_id, customer_id,
                                "customerId")
    if segment_id is None:
        customer.market_segment_id = None
    else:
        segment = await load_owned(session, MarketSegment, actor.organisation_id,
                                   segment_id, "segmentId")
        customer.market_segment_id = segment.id
    await session.flush()
    return customer
