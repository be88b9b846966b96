"""Finance mutations: decode the input, call one domain command, shape the payload.
Only finance and admin change budgets, costs, policies and statements."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from spm_api.domain.finance import accounting, books, budgets, charging, customers, statements
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.ids import node_pk
from spm_api.graphql.core.money import money_in
from spm_api.graphql.core.nodes import as_node, as_nodes
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.unit_of_work import run_mutation
from spm_api.graphql.finance.inputs import (
    AddChargeAdjustmentInput,
    AddCostCategoryInput,
    CreateCustomerInput,
    PeriodInput,
    RecordCostInput,
    RecordUsageInput,
    RemoveBudgetLineInput,
    SetBudgetLineInput,
    SetChargingPolicyInput,
)
from spm_api.graphql.finance.payloads import (
    BudgetLinePayload,
    ChargeAdjustmentPayload,
    ChargingPolicyPayload,
    ClosePeriodPayload,
    CostCategoryPayload,
    CostEntryPayload,
    CustomerPayload,
    IssueStatementsPayload,
    RemoveBudgetLinePayload,
    UsageRecordPayload,
)
from spm_api.graphql.finance.types import (
    BudgetLineNode,
    ChargeLine,
    ChargingPolicy,
    ChargingRunResult,
    CostCategoryInfo,
    CostEntryNode,
    CustomerNode,
    StatementNode,
    UsageRecord,
)
from spm_api.plugins.contracts import Settings


def _service_pk(raw: strawberry.ID) -> int:
    return node_pk(raw, "Service", "serviceId")


def _customer_pk(raw: strawberry.ID) -> int:
    return node_pk(raw, "Customer", "customerId")


@strawberry.type
class FinanceMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Add a customer (finance, portfolio managers, admins).")
    async def create_customer(self, info: Info[Context, None], input: CreateCustomerInput
                              ) -> CustomerPayload:
        customer, errors = await run_mutation(
            info, lambda session, actor: customers.create_customer(
                session, actor, input.name, input.kind))
        return CustomerPayload(customer=as_node(CustomerNode, customer), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Add a cost category of the organisation's own.")
    async def add_cost_category(self, info: Info[Context, None], input: AddCostCategoryInput
                                ) -> CostCategoryPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: books.add_cost_category(
                session, actor, input.code, input.title))
        if row is None:
            return CostCategoryPayload(errors=errors)
        return CostCategoryPayload(
            category=CostCategoryInfo(code=row.code, title=row.title, standard=False))

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Plan a service's cost for a month and category, "
                                     "replacing what was planned there.")
    async def set_budget_line(self, info: Info[Context, None], input: SetBudgetLineInput
                              ) -> BudgetLinePayload:
        line, errors = await run_mutation(
            info, lambda session, actor: budgets.set_budget_line(
                session, actor, _service_pk(input.service_id), input.period, input.category,
                input.amount.to_domain("amount")))
        return BudgetLinePayload(budget_line=as_node(BudgetLineNode, line), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def remove_budget_line(self, info: Info[Context, None],
                                 input: RemoveBudgetLineInput) -> RemoveBudgetLinePayload:
        removed, errors = await run_mutation(
            info, lambda session, actor: budgets.remove_budget_line(
                session, actor, node_pk(input.budget_line_id, "BudgetLine", "budgetLineId")))
        return RemoveBudgetLinePayload(
            removed_id=None if removed is None else input.budget_line_id, errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Book an actual cost against a service.")
    async def record_cost(self, info: Info[Context, None], input: RecordCostInput
                          ) -> CostEntryPayload:
        booked_on: date = input.booked_on
        entry, errors = await run_mutation(
            info, lambda session, actor: accounting.record_cost(
                session, actor, _service_pk(input.service_id), booked_on=booked_on,
                category=input.category, amount=input.amount.to_domain("amount"),
                description=input.description))
        return CostEntryPayload(cost_entry=as_node(CostEntryNode, entry), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Record what a customer used of a service in a month.")
    async def record_usage(self, info: Info[Context, None], input: RecordUsageInput
                           ) -> UsageRecordPayload:
        record, errors = await run_mutation(
            info, lambda session, actor: accounting.record_usage(
                session, actor, _customer_pk(input.customer_id),
                _service_pk(input.service_id), period=input.period, amount=input.quantity,
                unit_name=input.unit))
        if record is None:
            return UsageRecordPayload(errors=errors)
        return UsageRecordPayload(usage_record=UsageRecord(
            id=record.id, period=record.period, quantity=record.quantity, unit=record.unit,
            source=record.source, customer_id=record.customer_id,
            service_id=record.service_id))

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Choose how a service is charged.")
    async def set_charging_policy(self, info: Info[Context, None],
                                  input: SetChargingPolicyInput) -> ChargingPolicyPayload:
        parameters: Settings = (  # a non-object is refused by the domain
            {} if input.parameters is None else input.parameters)  # type: ignore[assignment]
        policy, errors = await run_mutation(
            info, lambda session, actor: charging.set_charging_policy(
                session, actor, info.context.plugins, _service_pk(input.service_id),
                input.model, parameters))
        return ChargingPolicyPayload(charging_policy=as_node(ChargingPolicy, policy),
                                     errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Run charging for an open month and save a statement "
                                     "per customer, replacing the month's earlier ones.")
    async def issue_statements(self, info: Info[Context, None], input: PeriodInput
                               ) -> IssueStatementsPayload:
        issued, errors = await run_mutation(
            info, lambda session, actor: statements.issue_statements(
                session, actor, info.context.plugins, input.period))
        if issued is None:
            return IssueStatementsPayload(errors=errors)
        run, rows = issued
        return IssueStatementsPayload(run=ChargingRunResult.of(run, issued=True),
                                      statements=as_nodes(StatementNode, rows))

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Close a month: its statements become final and its "
                                     "costs and usage can no longer change.")
    async def close_period(self, info: Info[Context, None], input: PeriodInput
                           ) -> ClosePeriodPayload:
        closed, errors = await run_mutation(
            info, lambda session, actor: statements.close_period(session, actor, input.period))
        if closed is None:
            return ClosePeriodPayload(errors=errors)
        return ClosePeriodPayload(period=closed.period, closed_at=closed.closed_at)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Correct a closed month's charges with an adjustment "
                                     "billed in a later, open month.")
    async def add_charge_adjustment(self, info: Info[Context, None],
                                    input: AddChargeAdjustmentInput) -> ChargeAdjustmentPayload:
        row, errors = await run_mutation(
            info, lambda session, actor: statements.add_adjustment(
                session, actor, customer_id=_customer_pk(input.customer_id),
                service_id=_service_pk(input.service_id),
                corrects_period=input.corrects_period, period=input.period,
                amount=input.amount.to_domain("amount"), reason=input.reason))
        if row is None:
            return ChargeAdjustmentPayload(errors=errors)
        return ChargeAdjustmentPayload(adjustment=ChargeLine(
            model="adjustment", amount=money_in(row.amount, input.amount.currency.strip().upper()),
            billed=True, description=row.reason, corrects_period=row.corrects_period,
            service_id=row.service_id, customer_id=row.customer_id))

