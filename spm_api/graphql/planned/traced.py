"""The planned read path with a span per plan step: each root field, each statement's
step (rows by id, child rows, latest rounds with their votes) and the open rounds'
evaluation (its plugin calls below it). Used instead of ``PlanRun`` only when tracing
is on, so an untraced plan runs exactly as before."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from spm_api.domain.approvals.rounds import RoundResult
from spm_api.graphql.planned.plan import NotPlannable, Selected
from spm_api.graphql.planned.run import PlanRun, Record
from spm_api.observability import tracing

if TYPE_CHECKING:
    from opentelemetry.trace import Span


class TracedPlanRun(PlanRun):
    """``PlanRun`` with the request's tracer around each step."""

    def step(self, name: str, attributes: dict[str, Any]) -> AbstractContextManager[Span]:
        """A span for one step; a query the plan hands to the executor is no error."""
        tracer = tracing.active()
        assert tracer is not None, "a traced plan runs inside a traced request"
        return tracing.span(tracer, name, attributes, expected=(NotPlannable,))

    async def answer(self) -> dict[str, Any]:
        with self.step("plan", {
                "spm.plan.roots": [root.name for root in self.plan.roots]}):
            return await super().answer()

    async def root(self, selected: Selected) -> Any:
        with self.step(f"plan root {selected.name}",
                          {"spm.plan.step": "root", "spm.plan.field": selected.name}):
            return await super().root(selected)

    async def by_id(self, type_name: str, ids: Sequence[int]) -> dict[int, Record]:
        with self.step(f"plan by_id {type_name}",
                          {"spm.plan.step": "by_id", "spm.plan.type": type_name,
                             "spm.keys": len(ids)}):
            return await super().by_id(type_name, ids)

    async def children(self, relation: str, columns: Sequence[str],
                       parent_ids: Sequence[int], child_type: str | None = None
                       ) -> dict[int, list[Record]]:
        with self.step(f"plan children {relation}",
                          {"spm.plan.step": "children", "spm.plan.relation": relation,
                             "spm.keys": len(parent_ids)}):
            return await super().children(relation, columns, parent_ids, child_type)

    async def latest_rounds(self, service_ids: Sequence[int], columns: tuple[str, ...],
                            vote_columns: tuple[str, ...]
                            ) -> tuple[dict[int, Record], dict[int, list[Record]]]:
        with self.step("plan latest_rounds",
                          {"spm.plan.step": "latest_rounds", "spm.keys": len(service_ids)}):
            return await super().latest_rounds(service_ids, columns, vote_columns)

    async def open_rounds(self, services: list[Record], latest: dict[int, Record],
                          votes: dict[int, list[Record]]) -> dict[int, RoundResult]:
        with self.step("plan open_rounds",
                          {"spm.plan.step": "open_rounds", "spm.keys": len(services)}):
            return await super().open_rounds(services, latest, votes)
