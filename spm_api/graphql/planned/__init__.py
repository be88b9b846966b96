"""The planned read path: validated query operations answered from a cached plan with a
fixed number of statements per level and no resolver per field. Strawberry's executor
stays the reference: whatever the plan cannot answer goes there, and in ``check`` mode
every planned answer is compared with the executor's."""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from graphql import GraphQLError
from graphql.execution.values import get_variable_values
from strawberry.http import GraphQLRequestData

from spm_api.graphql.core.context import Context
from spm_api.graphql.core.documents import DocumentChecks
from spm_api.graphql.planned.plan import NotPlannable, Plan, plan_of
from spm_api.graphql.planned.run import PlanRun
from spm_api.graphql.planned.traced import TracedPlanRun
from spm_api.vocabulary.errors import DomainError

log = logging.getLogger("spm_api.planned")

__all__ = ["PlanFailed", "PlannedReads"]


class PlanFailed(Exception):
    """A plan failed unexpectedly while both paths are compared."""


class PlannedReads:
    """Answers the queries it can plan; ``None`` hands a request to the executor."""

    def __init__(self, schema: Any, checks: DocumentChecks, max_page_size: int,
                 cache_size: int, mode: str, traced: bool = False) -> None:
        self.graphql_schema = schema._schema
        # Traced, a span per plan step; untraced, the plain run (nothing added).
        self._run: type[PlanRun] = TracedPlanRun if traced else PlanRun
        self.checks = checks
        self.max_page_size = max_page_size
        self.mode = mode
        self._plans: OrderedDict[tuple[str, str | None], Plan | None] = OrderedDict()
        self._cache_size = cache_size

    @property
    def checking(self) -> bool:
        return self.mode == "check"

    def plan(self, query: str, operation_name: str | None) -> Plan | None:
        """The cached plan of a valid query operation, or None (bounded LRU)."""
        key = (query, operation_name)
        if key in self._plans:
            self._plans.move_to_end(key)
            return self._plans[key]
        try:
            document = self.checks.parse(query)
        except GraphQLError:
            return None
        # Only authenticated requests are planned: validated as such.
        found = None if self.checks.validate(self.graphql_schema, document, True) else plan_of(
            document, operation_name)
        self._plans[key] = found
        if len(self._plans) > self._cache_size:
            self._plans.popitem(last=False)
        return found

    async def data(self, plan: Plan, request: GraphQLRequestData, context: Context,
                   currency: str | None = None) -> dict[str, Any] | None:
        """The planned answer's data, or None to let the executor answer (in the same
        context: a rule's refusal is remembered, so its plugin is called once). In
        ``check`` mode a plan that fails raises ``PlanFailed``: that is a difference."""
        coerced = get_variable_values(self.graphql_schema,
                                      plan.operation.variable_definitions or (),
                                      request.variables or {})
        if isinstance(coerced, list):  # variable errors: the executor reports them
            return None
        try:
            data = await self._run(plan, context, self.graphql_schema, coerced,
                                 self.max_page_size, currency).answer()
        except NotPlannable:
            return None
        except Exception as failure:  # the executor answers, and reports its own way
            log.exception("the planned read path failed; the executor answers instead")
            context.forget_loaded()
            async with context.lock:  # a failed statement leaves the transaction aborted
                await context.session.rollback()
            if self.checking:  # where both paths are compared, a failed plan is a difference
                raise PlanFailed from failure
            return None
        if self.checking:
            # The executor must work rounds out for itself to be a check; only refusals
            # stay remembered, so a failing plugin is still called (and logged) once.
            results = context.loaders.round_results
            for round_id in [key for key, found in results.items()
                             if not isinstance(found, DomainError)]:
                del results[round_id]
        return data

    @staticmethod
    def mismatch(planned: Any, executed: Any) -> dict[str, Any]:
        """What ``check`` mode answers when the two paths disagree: a coded error, and
        both answers in the log."""
        log.error("planned answer differs from the executor's: planned=%r executed=%r",
                  planned, executed)
        return {"data": None, "errors": [{
            "message": "the planned read path answered differently from the executor",
            "extensions": {"code": "PLAN_MISMATCH"}}]}
