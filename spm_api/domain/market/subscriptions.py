"""Customers' subscriptions to offerings, month by month, and the price lists they put
in force for a charging run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor, Permission
from spm_api.domain.reads import load_owned
from spm_api.models import Customer, OfferingService, Service, ServiceOffering, Subscription
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.periods import Period


def _month(text: str, field: str) -> str:
    return str(Period.parse(text, field))


async def subscribe(session: AsyncSession, actor: Actor, customer_id: int, offering_id: int,
                    start_period: str, end_period: str | None = None) -> Subscription:
    """The customer takes the offering from ``start_period`` (through ``end_period``,
    months inclusive, or until unsubscribed); refused when it already takes it in any
    of those months."""
    actor.require(Permission.MANAGE_PRICES)
    customer = await load_owned(session, Customer, actor.organisation_id, customer_id,
                                "customerId")
    offering = await load_owned(session, ServiceOffering, actor.organisation_id,
                                offering_id, "offeringId")
    start = _month(start_period, "startPeriod")
    end = None if end_period is None else _month(end_period, "endPeriod")
    if end is not None and end < start:
        raise fail(ErrorCode.VALIDATION, "endPeriod must not be before startPeriod",
                   "endPeriod")
    overlapping = select(Subscription.id).where(
        Subscription.organisation_id == actor.organisation_id,
        Subscription.customer_id == customer.id, Subscription.offering_id == offering.id,
        or_(Subscription.end_period.is_(None), Subscription.end_period >= start))
    if end is not None:
        overlapping = overlapping.where(Subscription.start_period <= end)
    if await session.scalar(overlapping) is not None:
        raise fail(ErrorCode.CONFLICT, f"{customer.name} already subscribes to "
                   f"{offering.name} in some of those months", "offeringId")
    subscription = Subscription(organisation_id=actor.organisation_id,
                                customer_id=customer.id, offering_id=offering.id,
                                start_period=start, end_period=end,
                                created_by_id=actor.person_id or None)
    session.add(subscription)
    await session.flush()
    return subscription


async def unsubscribe(session: AsyncSession, actor: Actor, subscription_id: int,
                      end_period: str) -> Subscription:
    """End the subscription with ``end_period``, the last month it applies to."""
    actor.require(Permission.MANAGE_PRICES)
    subscription = await load_owned(session, Subscription, actor.organisation_id,
                                    subscription_id, "subscriptionId")
    end = _month(end_period, "endPeriod")
    if end < subscription.start_period:
        raise fail(ErrorCode.VALIDATION, f"endPeriod must not be before the subscription "
                   f"starts ({subscription.start_period})", "endPeriod")
    subscription.end_period = end
    await session.flush()
    return subscription


@dataclass(frozen=True, slots=True)
class SubscribedPrice:
    """The price list a customer takes a service under in a month, from an offering."""

    service_id: int
    customer_id: int
    offering_id: int
    model: str
    parameters: dict[str, Any]
    service_name: str
    service_end: Any


async def subscribed_prices(session: AsyncSession, organisation_id: int, month: str
                            ) -> dict[int, dict[int, SubscribedPrice]]:
    """Service → customer → the price list in force in the month (one statement): from
    the customer's subscriptions that month to offerings with a price list that package
    the service. Where several do, the earliest subscription's offering applies."""
    rows = await session.execute(
        select(OfferingService.service_id, Subscription.customer_id, ServiceOffering.id,
               ServiceOffering.charging_model, ServiceOffering.charging_parameters,
               Service.name, Service.planned_end_date)
        .join(ServiceOffering, ServiceOffering.id == Subscription.offering_id)
        .join(OfferingService, OfferingService.offering_id == ServiceOffering.id)
        .join(Service, Service.id == OfferingService.service_id)
        .where(Subscription.organisation_id == organisation_id,
               ServiceOffering.charging_model.is_not(None),
               Subscription.start_period <= month,
               or_(Subscription.end_period.is_(None), Subscription.end_period >= month))
        .order_by(Subscription.id, OfferingService.service_id))
    found: dict[int, dict[int, SubscribedPrice]] = {}
    for service_id, customer_id, offering_id, model, parameters, name, end in rows:
        found.setdefault(service_id, {}).setdefault(customer_id, SubscribedPrice(
            service_id, customer_id, offering_id, model, dict(parameters or {}), name, end))
    return found
