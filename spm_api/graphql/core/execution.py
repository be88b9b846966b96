"""The execution context: Strawberry's, with a per-event fix for long subscriptions.

graphql-core 3.3 runs each subscription event on a shallow copy of the subscription's
executor, sharing its memo of collected sub-fields. That memo is keyed on lists built
anew for every event, so it only ever grows: a few KiB per event per subscription,
kept until the subscription ends. Each event gets an empty memo of its own instead.
"""

from __future__ import annotations

from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor
