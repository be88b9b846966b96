"""Batch reads across the market's link tables: for many parents at once, the rows
they are linked to, in one statement."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.models import NeedLink, OfferingService, Service, ServiceOffering


async def _linked(session: AsyncSession, organisation_id: int, ids: Sequence[int],
                  link: Any, parent: str, target_model: Any, target: str) -> list[list[Any]]:
    parent_column = getattr(link, parent)
    target_column = getattr(link, target)
    rows = await session.execute(
        select(parent_column, target_model)
        .join(target_model, target_model.id == target_column)
        .where(link.organisation_id == organisation_id,
               target_model.organisation_id == organisation_id,
               parent_column.in_(set(ids)))
        .order_by(link.id))
    grouped: dict[int, list[Any]] = defaultdict(list)
    for parent_id, row in rows:
        grouped[parent_id].append(row)
    return [grouped.get(key, []) for key in ids]


async def services_of_offerings(*, session: AsyncSession, organisation_id: int,
                                ids: Sequence[int]) -> list[list[Service]]:
    """Each offering's services, in the order they were added."""
    return await _linked(session, organisation_id, ids, OfferingService, "offering_id",
                         Service, "service_id")


async def offerings_of_services(*, session: AsyncSession, organisation_id: int,
                                ids: Sequence[int]) -> list[list[ServiceOffering]]:
    """The offerings each service is part of."""
    return await _linked(session, organisation_id, ids, OfferingService, "service_id",
                         ServiceOffering, "offering_id")


async def services_of_needs(*, session: AsyncSession, organisation_id: int,
                            ids: Sequence[int]) -> list[list[Service]]:
    """The services linked to each need as meeting it."""
    return await _linked(session, organisation_id, ids, NeedLink, "need_id", Service,
                         "service_id")


async def offerings_of_needs(*, session: AsyncSession, organisation_id: int,
                             ids: Sequence[int]) -> list[list[ServiceOffering]]:
    """The offerings linked to each need as meeting it."""
    return await _linked(session, organisation_id, ids, NeedLink, "need_id",
                         ServiceOffering, "offering_id")
