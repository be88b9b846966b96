"""Customers: the departments and outside parties that use services and are charged."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain import audit
from spm_api.domain.actor import Actor, Permission
from spm_api.models import Customer, UsageRecord
from spm_api.vocabulary.audit import AuditAction, AuditEntity
from spm_api.vocabulary.enums import CustomerKind
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.validation import required_text


async def create_customer(session: AsyncSession, actor: Actor, name: str,
                          kind: CustomerKind) -> Customer:
    actor.require(Permission.MANAGE_CUSTOMERS)
    name = required_text(name, "name", 200)
    taken = await session.scalar(select(Customer.id).where(
        Customer.organisation_id == actor.organisation_id, Customer.name == name))
    if taken is not None:
        raise fail(ErrorCode.CONFLICT, f"a customer named {name!r} already exists", "name")
    customer = Customer(organisation_id=actor.organisation_id, name=name, kind=kind)
    session.add(customer)
    await session.flush()
    audit.record(session, actor, AuditEntity.CUSTOMER, customer.id, AuditAction.CREATED,
                 after=audit.fields_of(customer, ("name", "kind")))
    return customer


async def customers_of(session: AsyncSession, organisation_id: int) -> list[Customer]:
    """The organisation's customers by name."""
    return list(await session.scalars(
        select(Customer).where(Customer.organisation_id == organisation_id)
        .order_by(Customer.name)))


async def customers_of_service(session: AsyncSession, organisation_id: int, service_id: int
                               ) -> list[Customer]:
    """The customers who used the service (any usage recorded), by name: the ones a
    retirement affects."""
    users = select(UsageRecord.customer_id).where(
        UsageRecord.organisation_id == organisation_id, UsageRecord.service_id == service_id)
    return list(await session.scalars(
        select(Customer).where(Customer.organisation_id == organisation_id,
                               Customer.id.in_(users))
        .order_by(Customer.name, Customer.id)))
