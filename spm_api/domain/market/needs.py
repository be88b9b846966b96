"""Customer needs: the outcomes a segment or one customer wants, how much each matters,
and the services and offerings that meet them."""

from __future__ import annotations

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor, Permission
from spm_api.domain.reads import load_owned
from spm_api.models import (
    Customer,
    CustomerNeed,
    MarketSegment,
    NeedLink,
    OfferingService,
    Service,
    ServiceOffering,
)
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.stages import Stage
from spm_api.vocabulary.validation import required_text

#: The stages of a service that count as meeting a need: committed to or delivered.
MEETING_STAGES = (Stage.CHARTERED, Stage.LIVE)


def _importance(value: int) -> int:
    if not 1 <= value <= 5:
        raise fail(ErrorCode.VALIDATION, f"importance must be 1 (nice to have) to 5 "
                   f"(critical), not {value}", "importance")
    return value


async def needs(session: AsyncSession, actor: Actor) -> list[CustomerNeed]:
    """Every need of the organisation, most important first, then in the order recorded."""
    return list(await session.scalars(
        select(CustomerNeed).where(CustomerNeed.organisation_id == actor.organisation_id)
        .order_by(CustomerNeed.importance.desc(), CustomerNeed.id)))


async def unmet_needs(session: AsyncSession, actor: Actor) -> list[CustomerNeed]:
    """Needs no CHARTERED or LIVE service meets: none linked directly, and none in an
    offering linked to the need (one statement)."""
    org = actor.organisation_id
    met_directly = exists().where(
        NeedLink.need_id == CustomerNeed.id, NeedLink.organisation_id == org,
        Service.id == NeedLink.service_id, Service.stage.in_(MEETING_STAGES))
    met_by_offering = exists().where(
        NeedLink.need_id == CustomerNeed.id, NeedLink.organisation_id == org,
        OfferingService.offering_id == NeedLink.offering_id,
        Service.id == OfferingService.service_id, Service.stage.in_(MEETING_STAGES))
    return list(await session.scalars(
        select(CustomerNeed)
        .where(CustomerNeed.organisation_id == org, ~met_directly, ~met_by_offering)
        .order_by(CustomerNeed.importance.desc(), CustomerNeed.id)))


async def record_need(session: AsyncSession, actor: Actor, outcome: str, importance: int,
                      *, segment_id: int | None = None, customer_id: int | None = None
                      ) -> CustomerNeed:
    """A need of a segment or of one customer (exactly one of the two)."""
    actor.require(Permission.MANAGE_MARKET)
    outcome = required_text(outcome, "outcome", 4000)
    importance = _importance(importance)
    if (segment_id is None) == (customer_id is None):
        raise fail(ErrorCode.VALIDATION, "a need belongs to a segment or to one customer: "
                   "give segmentId or customerId, not both", "segmentId")
    need = CustomerNeed(organisation_id=actor.organisation_id, outcome=outcome,
                        importance=importance, recorded_by_id=actor.person_id or None)
    if segment_id is not None:
        need.segment_id = (await load_owned(session, MarketSegment, actor.organisation_id,
                                            segment_id, "segmentId")).id
    else:
        assert customer_id is not None
        need.customer_id = (await load_owned(session, Customer, actor.organisation_id,
                                             customer_id, "customerId")).id
    session.add(need)
    await session.flush()
    return need


async def update_need(session: AsyncSession, actor: Actor, need_id: int, *,
                      outcome: str | None = None, importance: int | None = None
                      ) -> CustomerNeed:
    actor.require(Permission.MANAGE_MARKET)
    need = await load_owned(session, CustomerNeed, actor.organisation_id, need_id, "needId")
    if outcome is not None:
        need.outcome = required_text(outcome, "outcome", 4000)
    if importance is not None:
        need.importance = _importance(importance)
    await session.flush()
    return need


async def _target(session: AsyncSession, actor: Actor, service_id: int | None,
                  offering_id: int | None) -> tuple[int | None, int | None]:
    if (service_id is None) == (offering_id is None):
        raise fail(ErrorCode.VALIDATION, "give serviceId or offeringId, not both",
                   "serviceId")
    if service_id is not None:
        return (await load_owned(session, Service, actor.organisation_id, service_id,
                                 "serviceId")).id, None
    assert offering_id is not None
    return None, (await load_owned(session, ServiceOffering, actor.organisation_id,
                                   offering_id, "offeringId")).id


def _link_query(need: CustomerNeed, service_id: int | None, offering_id: int | None
                ) -> Select[NeedLink]:
    return select(NeedLink).where(
        NeedLink.need_id == need.id,
        NeedLink.service_id.is_(None) if service_id is None
        else NeedLink.service_id == service_id,
        NeedLink.offering_id.is_(None) if offering_id is None
        else NeedLink.offering_id == offering_id)


async def link_need(session: AsyncSession, actor: Actor, need_id: int, *,
                    service_id: int | None = None, offering_id: int | None = None
                    ) -> CustomerNeed:
    """Record that the service (or offering) meets the need; linking again changes
    nothing."""
    actor.require(Permission.MANAGE_MARKET)
    need = await load_owned(session, CustomerNeed, actor.organisation_id, need_id, "needId")
    service, offering = await _target(session, actor, service_id, offering_id)
    if await session.scalar(_link_query(need, service, offering)) is None:
        session.add(NeedLink(organisation_id=actor.organisation_id, need_id=need.id,
                             service_id=service, offering_id=offering))
    await session.flush()
    return need


async def unlink_need(session: AsyncSession, actor: Actor, need_id: int, *,
                      service_id: int | None = None, offering_id: int | None = None
                      ) -> CustomerNeed:
    actor.require(Permission.MANAGE_MARKET)
    need = await load_owned(session, CustomerNeed, actor.organisation_id, need_id, "needId")
    service, offering = await _target(session, actor, service_id, offering_id)
    link = await session.scalar(_link_query(need, service, offering))
    if link is None:
        raise fail(ErrorCode.NOT_FOUND, "the need is not linked to that "
                   f"{'service' if service is not None else 'offering'}",
                   "serviceId" if service is not None else "offeringId")
    await session.delete(link)
    await session.flush()
    return need
