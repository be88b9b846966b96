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
"""

from __future__ import annotations

from typing import Any

from graphql import ExecutionResult
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from spm_api.graphql.core.context import Context


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor

    def build_response(self, data: dict[str, Any] | None) -> Any:
        response = super().build_response(data)
        if self.background_futures and isinstance(self.context_value, Context):
            self.context_value.settle_before_closing(self.background_futures)
        if isinstance(response, ExecutionResult):  # nothing incremental still to run
            self.__dict__.pop("async_helpers", None)
        return response
