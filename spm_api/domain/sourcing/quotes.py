"""Contractor quotes during analysis. The contractor's system is asked outside any
database transaction: the read transaction ends before the call, and the quote is
written in a new one, after checking that nothing moved meanwhile."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor, Permission
from spm_api.domain.finance.books import books_of
from spm_api.domain.portfolio.services import touch
from spm_api.domain.reads import load_owned
from spm_api.domain.sourcing.capabilities import refresh_estimated_cost
from spm_api.models import Capability, Contractor, Quote, Service
from spm_api.plugins.contracts import REQUEST_QUOTE, QuoteRequest
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.enums import Sourcing
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.money import rounded
from spm_api.vocabulary.stages import Stage


def _require_analysis(service: Service) -> None:
    if service.stage is not Stage.ANALYSIS:
        raise fail(ErrorCode.STAGE_LOCKED,
                   f"quotes are requested in ANALYSIS, not {service.stage.value}",
                   "capabilityId")


async def request_quote(session: AsyncSession, actor: Actor, plugins: PluginHost,
                        capability_id: int) -> Quote:
    """Ask the capability's contractor for a price; the quote becomes the capability's
    estimated cost, and the service's estimated cost is its capabilities' sum."""
    actor.require(Permission.EDIT_SERVICE)
    capability = await load_owned(session, Capability, actor.organisation_id, capability_id,
                                  "capabilityId")
    service = await load_owned(session, Service, actor.organisation_id, capability.service_id,
                               "serviceId")
    _require_analysis(service)
    if capability.sourcing is not Sourcing.CONTRACTOR or capability.contractor_id is None:
        raise fail(ErrorCode.VALIDATION, "only a contractor-sourced capability gets quotes",
                   "capabilityId")
    contractor = await load_owned(session, Contractor, actor.organisation_id,
                                  capability.contractor_id, "contractorId")
    books = await books_of(session, actor.organisation_id)
    integration, contractor_id = contractor.integration, contractor.id
    request = QuoteRequest(
        organisation_id=actor.organisation_id, service_id=service.id,
        service_name=service.name, capability=capability.name,
        description=capability.description, currency=books.currency,
        contractor_settings=dict(contractor.settings))
    version = service.version
    await session.rollback()  # no transaction stays open while the contractor answers

    offer = await plugins.call(REQUEST_QUOTE, integration, request)

    if (await books_of(session, actor.organisation_id, lock=True)).currency != books.currency:
        raise fail(ErrorCode.CONFLICT, "the organisation's currency changed while the "
                   "contractor was quoting; ask again", "capabilityId")
    capability = await load_owned(session, Capability, actor.organisation_id, capability_id,
                                  "capabilityId")
    service = await load_owned(session, Service, actor.organisation_id, capability.service_id,
                               "serviceId")
    _require_analysis(service)
    if service.version != version:
        raise fail(ErrorCode.CONFLICT, "the service changed while the contractor was "
                   "quoting; ask again", "capabilityId")
    amount = rounded(offer.amount, books.currency)
    quote = Quote(organisation_id=actor.organisation_id, capability_id=capability.id,
                  contractor_id=contractor_id, amount=amount,
                  valid_until=offer.valid_until, reference=offer.reference[:200],
                  requested_by_id=actor.person_id)
    session.add(quote)
    capability.estimated_cost = amount
    await session.flush()
    await refresh_estimated_cost(session, service)
    touch(service)
    await session.flush()
    return quote
