"""The execution context: Strawberry's, with two fixes for what graphql-core 3.3
leaves behind.

- It runs each subscription event on a shallow copy of the subscription's executor,
  sharing its memo of collected sub-fields. That memo is keyed on lists built anew for
  every event, so it only ever grows: a few KiB per event per subscription, kept until
  the subscription ends. Each event gets an empty memo of its own instead.
- Its executor holds helpers made of its own bound methods: a reference cycle that keeps
  the whole execution (collected fields, paths, results) alive until the garbage
  collector runs. The response built, the cycle is broken, so it is freed at once.
- When a field fails synchronously and its error reaches a non-null parent, the sibling
  fields still running are left to settle in the background, and the response is built
  without them. They still read through the request's session: they are handed to the
  context, which lets them settle before it closes that session.

Each subscription event the planned path can write (``planned.events``) is written by
the subscription's plan rather than by a resolver per field.
"""

from __future__ import annotations

from typing import Any

from graphql import ExecutionResult
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from spm_api.graphql.core.context import Context

#: Where a subscription's executor keeps its event plan (None: not plannable).
_EVENT_PLAN = "spm_event_plan"
#: Where an event's executor finds the plan and payload it writes the event with.
_PLANNED_EVENT = "spm_planned_event"


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        context = self.context_value
        plans = context.event_plans if isinstance(context, Context) else None
        if plans is not None and plans.writes(payload):
            if _EVENT_PLAN not in self.__dict__:  # planned once per subscription
                self.__dict__[_EVENT_PLAN] = plans.plan(self.operation, {
                    name: details.definition for name, details in self.fragments.items()})
            plan = self.__dict__[_EVENT_PLAN]
            if plan is not None:
                executor.__dict__[_PLANNED_EVENT] = (plans, plan, payload)
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        planned = self.__dict__.get(_PLANNED_EVENT)
        if planned is None:
            return super().execute_operation(serially)
        plans, plan, payload = planned
        return self._planned_event(plans, plan, payload, serially)

    async def _planned_event(self, plans: Any, plan: Any, payload: Any,
                             serially: bool | None) -> Any:
        """The event written by its plan; the executor's when the plan cannot (or, in
        ``check`` mode, both, compared)."""
        data = await plans.data(plan, payload, self.context_value, self.variable_values)
        if data is not None and not plans.checking:
            return ExecutionResult(data)
        executed = super().execute_operation(serially)
        if self.is_awaitable(executed):
            executed = await executed
        if data is None or plans.same(data, executed):
            return executed
        # Each read sees what is committed when it runs: the service may have moved on
        # between the plan's read and the executor's. Written again now, it must agree.
        again = await plans.data(plan, payload, self.context_value, self.variable_values)
        return executed if again is None else plans.compared(again, executed)

    def build_response(self, data: dict[str, Any] | None) -> Any:
        response = super().build_response(data)
        if self.background_futures and isinstance(self.context_value, Context):
            self.context_value.settle_before_closing(self.background_futures)
        if isinstance(response, ExecutionResult):  # nothing incremental still to run
            self.__dict__.pop("async_helpers", None)
        return response
