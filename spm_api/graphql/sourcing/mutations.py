"""Sourcing mutations: the contractor registry, capabilities, quotes, engagements and
contractor invoices. Each decodes its input and calls one domain command."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from spm_api.domain.sourcing import capabilities, contractors, engagements, invoices, quotes
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.enums import Sourcing
from spm_api.graphql.core.errors import UserError
from spm_api.graphql.core.ids import node_pk
from spm_api.graphql.core.money import MoneyInput, optional_money
from spm_api.graphql.core.nodes import as_node
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.unit_of_work import run_mutation
from spm_api.graphql.finance.types import CostEntryNode
from spm_api.graphql.sourcing.types import (
    CapabilityNode,
    ContractorNode,
    EngagementNode,
    Quote,
)
from spm_api.plugins.contracts import Settings


@strawberry.input
class RegisterContractorInput:
    name: str
    integration: str = strawberry.field(description="A contractor integration's name.")
    contact: str = ""
    # Null, not {}: an object default cannot be introspected (see SetChargingPolicyInput).
    settings: JSON | None = strawberry.field(
        default=None, description="Checked by the integration; omitted or null means none.")


@strawberry.input
class UpdateContractorInput:
    contractor_id: strawberry.ID
    contact: str | None = None
    settings: JSON | None = strawberry.field(default=None,
                                             description="Replaces the settings; checked "
                                                         "by the integration.")


@strawberry.input
class AddCapabilityInput:
    service_id: strawberry.ID
    name: str
    sourcing: Sourcing
    description: str = ""
    owner_id: strawberry.ID | None = strawberry.field(default=None,
                                                     description="For INTERNAL.")
    contractor_id: strawberry.ID | None = strawberry.field(default=None,
                                                          description="For CONTRACTOR.")
    estimated_cost: MoneyInput | None = None


@strawberry.input
class CapabilityIdInput:
    capability_id: strawberry.ID


@strawberry.input
class EngagementIdInput:
    engagement_id: strawberry.ID


@strawberry.input
class CancelEngagementInput:
    engagement_id: strawberry.ID
    reason: str


@strawberry.input
class RecordEngagementDecisionInput:
    engagement_id: strawberry.ID
    accepted: bool
    reference: str | None = None


@strawberry.input
class BookContractorInvoiceInput:
    engagement_id: strawberry.ID
    invoice_reference: str
    booked_on: date
    amount: MoneyInput
    description: str = ""


@strawberry.type
class ContractorPayload:
    contractor: ContractorNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CapabilityPayload:
    capability: CapabilityNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RemoveCapabilityPayload:
    removed_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class QuotePayload:
    quote: Quote | None = None
    capability: CapabilityNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class EngagementPayload:
    engagement: EngagementNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ContractorInvoicePayload:
    cost_entry: CostEntryNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _engagement_pk(raw: strawberry.ID) -> int:
    return node_pk(raw, "Engagement", "engagementId")


@strawberry.type
class SourcingMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Add a contractor to the registry (portfolio managers, "
                                     "admins).")
    async def register_contractor(self, info: Info[Context, None],
                                  input: RegisterContractorInput) -> ContractorPayload:
        settings: Settings = (  # a non-object is refused by the domain
            {} if input.settings is None else input.settings)  # type: ignore[assignment]
        row, errors = await run_mutation(
            info, lambda session, actor: contractors.register_contractor(
                session, actor, info.context.plugins, name=input.name, contact=input.contact,
                integration=input.integration, settings=settings))
        return ContractorPayload(contractor=as_node(ContractorNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Change a contractor's contact or integration settings "
                                     "(portfolio managers, admins).")
    async def update_contractor(self, info: Info[Context, None],
                                input: UpdateContractorInput) -> ContractorPayload:
        settings: Settings | None = input.settings  # type: ignore[assignment]
        row, errors = await run_mutation(
            info, lambda session, actor: contractors.update_contractor(
                session, actor, info.context.plugins,
                node_pk(input.contractor_id, "Contractor", "contractorId"),
                contact=input.contact, settings=settings))
        return ContractorPayload(contractor=as_node(ContractorNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Plan a capability of a service in DEFINITION or "
                                     "ANALYSIS.")
    async def add_capability(self, info: Info[Context, None], input: AddCapabilityInput
                             ) -> CapabilityPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: capabilities.add_capability(
                session, actor, node_pk(input.service_id, "Service", "serviceId"),
                name=input.name, description=input.description,
                sourcing=Sourcing(input.sourcing),
                owner_id=(node_pk(input.owner_id, "Person", "ownerId")
                          if input.owner_id else None),
                contractor_id=(node_pk(input.contractor_id, "Contractor", "contractorId")
                               if input.contractor_id else None),
                estimated_cost=optional_money(input.estimated_cost, "estimatedCost")))
        return CapabilityPayload(capability=as_node(CapabilityNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def remove_capability(self, info: Info[Context, None], input: CapabilityIdInput
                                ) -> RemoveCapabilityPayload:
        removed, errors = await run_mutation(
            info, lambda session, actor: capabilities.remove_capability(
                session, actor, node_pk(input.capability_id, "Capability", "capabilityId")))
        return RemoveCapabilityPayload(
            removed_id=None if removed is None else input.capability_id, errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Ask a contractor-sourced capability's contractor for "
                                     "a quote (ANALYSIS); it becomes the capability's "
                                     "estimated cost.")
    async def request_quote(self, info: Info[Context, None], input: CapabilityIdInput
                            ) -> QuotePayload:
        row, errors = await run_mutation(
            info, lambda session, actor: quotes.request_quote(
                session, actor, info.context.plugins,
                node_pk(input.capability_id, "Capability", "capabilityId")))
        if row is None:
            return QuotePayload(errors=errors)
        capability = await info.context.loaders.capability.load(row.capability_id)
        return QuotePayload(quote=as_node(Quote, row), capability=capability)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Queue a FAILED engagement (or a CANCEL_FAILED "
                                     "cancellation) for delivery again.")
    async def retry_engagement(self, info: Info[Context, None], input: EngagementIdInput
                               ) -> EngagementPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: engagements.retry_engagement(
                session, actor, _engagement_pk(input.engagement_id)))
        return EngagementPayload(engagement=as_node(EngagementNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="End an engagement of a RETIRING service: the "
                                     "contractor is told through the outbox (CANCELLING, "
                                     "then CANCELLED).")
    async def cancel_engagement(self, info: Info[Context, None], input: CancelEngagementInput
                                ) -> EngagementPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: engagements.cancel_engagement(
                session, actor, _engagement_pk(input.engagement_id), input.reason))
        return EngagementPayload(engagement=as_node(EngagementNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Record a contractor's answer to an engagement it "
                                     "received.")
    async def record_engagement_decision(self, info: Info[Context, None],
                                         input: RecordEngagementDecisionInput
                                         ) -> EngagementPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: engagements.record_decision(
                session, actor, _engagement_pk(input.engagement_id), input.accepted,
                input.reference))
        return EngagementPayload(engagement=as_node(EngagementNode, row), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Book a contractor's invoice for an engagement as a "
                                     "cost entry in the contractor category (finance).")
    async def book_contractor_invoice(self, info: Info[Context, None],
                                      input: BookContractorInvoiceInput
                                      ) -> ContractorInvoicePayload:
        row, errors = await run_mutation(
            info, lambda session, actor: invoices.book_invoice(
                session, actor, _engagement_pk(input.engagement_id),
                reference=input.invoice_reference, booked_on=input.booked_on,
                amount=input.amount.to_domain("amount"), description=input.description))
        return ContractorInvoicePayload(cost_entry=as_node(CostEntryNode, row), errors=errors)
