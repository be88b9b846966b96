"""Subscription events written by plans: a ``stageChanged`` event's service and stage
change are read with the planned path's statements and rendered by its compiled
functions, instead of a resolver per field.

A subscription is planned once (``plan.plan_of_event``), when its first event arrives;
each event then reads its rows in the event's own session and as the event's actor (the
token checked again, ``Context.event_scope``), exactly what the executor would read. The
stage change itself is the row the subscription read from the history (in the
organisation), shown as it is, as the executor shows it. An
event the plan cannot write, or a row it does not find, goes to the executor; in
``check`` mode both write every event and a difference is answered as
``PLAN_MISMATCH``, as queries are.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from graphql import (
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
)
from graphql.execution.values import VariableValues

from spm_api.graphql.core.context import Context
from spm_api.graphql.planned.plan import NotPlannable, Plan, Selected, plan_of_event
from spm_api.graphql.planned.run import PlanRun
from spm_api.graphql.portfolio.subscriptions import StageChangedEvent
from spm_api.observability.metrics import EVENTS_WRITTEN

BY_PLAN = EVENTS_WRITTEN.labels("plan")
BY_EXECUTOR = EVENTS_WRITTEN.labels("executor")

log = logging.getLogger("spm_api.planned")

__all__ = ["EventPlans", "EventRun"]


class EventRun(PlanRun):
    """One event's run of a subscription's plan."""

    async def stage_changed(self, event: StageChangedEvent) -> dict[str, Any]:
        (root,) = self.plan.roots
        await self.read_currency()
        change = event.stage_change
        shown: dict[str, Any] = {}
        for part in root.below:
            if part.name == "cursor":
                shown[part.key] = event.cursor
            elif part.name == "__typename":
                shown[part.key] = "StageChangedEvent"
            elif part.name == "stageChange":  # the row the subscription read, as is
                record = {column: getattr(change, column)
                          for column in self.plan.columns.get("StageChange", ("id",))}
                shown[part.key] = await self.rendered("StageChange", [record], part,
                                                      none_when_empty=True)
            else:
                shown[part.key] = await self.row("Service", change.service_id, part)
        return {root.key: shown}

    async def row(self, type_name: str, pk: int, selected: Selected) -> Any:
        found = await self.by_id(type_name, [pk])
        if pk not in found:  # gone since: the executor words what the client sees
            raise NotPlannable(f"{type_name} {pk} is not there")
        return await self.rendered(type_name, [found[pk]], selected, none_when_empty=True)


class EventPlans:
    """The planned path's share of subscriptions: which events it writes, and how."""

    def __init__(self, schema: GraphQLSchema, max_page_size: int, mode: str) -> None:
        self.schema = schema
        self.max_page_size = max_page_size
        self.checking = mode == "check"

    @staticmethod
    def writes(payload: object) -> bool:
        """Whether events like ``payload`` are ones a plan may write."""
        return isinstance(payload, StageChangedEvent)

    @staticmethod
    def plan(operation: OperationDefinitionNode,
             fragments: Mapping[str, FragmentDefinitionNode]) -> Plan | None:
        return plan_of_event(operation, dict(fragments))

    async def data(self, plan: Plan, payload: StageChangedEvent, context: Context,
                   variables: VariableValues) -> dict[str, Any] | None:
        """The event's data as the plan writes it, or None for the executor to write."""
        if context.actor is None:
            BY_EXECUTOR.inc()
            return None
        try:
            data = await EventRun(plan, context, self.schema, variables,
                                  self.max_page_size).stage_changed(payload)
        except NotPlannable:
            BY_EXECUTOR.inc()
            return None
        except Exception:  # the executor writes the event, and reports its own way
            log.exception("the planned read path failed on an event; the executor "
                          "writes it instead")
            async with context.lock:  # a failed statement leaves the transaction aborted
                await context.session.rollback()
            BY_EXECUTOR.inc()
            if self.checking:
                return {"(failed)": None}  # a difference, reported as one
            return None
        BY_PLAN.inc()
        return data

    @staticmethod
    def same(planned: dict[str, Any] | None, executed: ExecutionResult) -> bool:
        return not executed.errors and executed.data == planned

    def compared(self, planned: dict[str, Any] | None, executed: ExecutionResult
                 ) -> ExecutionResult:
        """The executor's result if the plan wrote the same, else ``PLAN_MISMATCH``."""
        if self.same(planned, executed):
            return executed
        log.error("planned event differs from the executor's: planned=%r executed=%r",
                  planned, executed.formatted)
        return ExecutionResult(None, [GraphQLError(
            "the planned read path answered differently from the executor",
            extensions={"code": "PLAN_MISMATCH"})])
