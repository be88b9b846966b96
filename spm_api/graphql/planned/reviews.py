"""``portfolioReview`` on the planned path: the review and its item views as the domain
works them out (``reviews.item_views``, the same function the executor's resolvers
call), rendered straight into the answer, and the services and people they name read as
rows like any planned selection. A review of thousands of services has hundreds of
thousands of values: the executor's per-field resolution is what this skips."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from strawberry.relay.utils import to_base64

from spm_api.domain.reviews import reads
from spm_api.graphql.core.ids import database_id
from spm_api.graphql.planned import shapes
from spm_api.graphql.planned.plan import NotPlannable, Selected
from spm_api.vocabulary.errors import DomainError

if TYPE_CHECKING:
    from spm_api.graphql.planned.run import PlanRun

REVIEW = "PortfolioReview"

#: Rows of a selection (``Service`` or ``Person``) rendered for this request, by the
#: selection's identity and the row's id.
Rendered = dict[int, dict[int, Any]]
Step = Callable[[Rendered, Any], Any]


def _decimal(value: Any) -> str | None:
    return None if value is None else str(value)


def _value(type_name: str, name: str) -> Step:
    """How a value field of ``type_name`` is shown, from the object it is read from:
    the review row, an ``ItemView``, an ``Evidence``, a ``KpiEvidence``, a vote row or a
    usage month (a tuple). Encoded as the executor serialises it."""
    enum, iso = shapes.enum_name, shapes.iso
    values: dict[str, dict[str, Step]] = {
        REVIEW: {
            "id": lambda _rows, row: to_base64(REVIEW, row.id),
            "title": lambda _rows, row: row.title,
            "periodFrom": lambda _rows, row: row.period_from,
            "periodTo": lambda _rows, row: row.period_to,
            "state": lambda _rows, row: enum(row.state),
            "openedAt": lambda _rows, row: iso(row.opened_at),
            "decidedAt": lambda _rows, row: iso(row.decided_at),
        },
        "ReviewItem": {
            "recommendation": lambda _rows, view: enum(view.item.recommendation),
            "rationale": lambda _rows, view: view.item.rationale,
            "plannedEndDate": lambda _rows, view: iso(view.item.planned_end_date),
            "decision": lambda _rows, view: enum(view.item.decision),
            "ruling": lambda _rows, view: enum(view.ruling.status) if view.ruling else None,
            "explanation": lambda _rows, view: (view.ruling.explanation() if view.ruling
                                         else view.item.verdict),
        },
        "ReviewVote": {
            "decision": lambda _rows, vote: enum(vote.decision),
            "comment": lambda _rows, vote: vote.comment,
            "castAt": lambda _rows, vote: iso(vote.cast_at),
        },
        "ReviewEvidence": {
            "health": lambda _rows, found: enum(found.health),
            "healthExplanation": lambda _rows, found: found.health_explanation,
            "cost": lambda _rows, found: str(found.cost),
            "budget": lambda _rows, found: str(found.budget),
            "budgetVariance": lambda _rows, found: _decimal(found.budget_variance),
            "recovered": lambda _rows, found: str(found.recovered),
            "costRecovery": lambda _rows, found: _decimal(found.cost_recovery),
            "openEngagements": lambda _rows, found: found.open_engagements,
            "customersAffected": lambda _rows, found: found.customers_affected,
        },
        "KpiEvidence": {
            "name": lambda _rows, kpi: kpi.name,
            "unit": lambda _rows, kpi: kpi.unit,
            "target": lambda _rows, kpi: str(kpi.target),
            "value": lambda _rows, kpi: _decimal(kpi.value),
            "period": lambda _rows, kpi: kpi.period,
            "status": lambda _rows, kpi: enum(kpi.status),
            "explanation": lambda _rows, kpi: kpi.explanation,
        },
        "MonthUsage": {
            "period": lambda _rows, month: month[0],
            "quantity": lambda _rows, month: str(month[1]),
            "customers": lambda _rows, month: month[2],
        },
    }
    return values[type_name][name]


#: Where a nested selection's objects come from: the list below a field, or the id of
#: the row it names.
_BELOW: dict[tuple[str, str], Callable[[Any], Any]] = {
    (REVIEW, "openedBy"): lambda row: row.opened_by_id,
    ("ReviewItem", "evidence"): lambda view: view.evidence,
    ("ReviewItem", "votes"): lambda view: view.votes,
    ("ReviewItem", "service"): lambda view: view.item.service_id,
    ("ReviewItem", "successor"): lambda view: view.item.successor_service_id,
    ("ReviewItem", "proposal"): lambda view: view.item.proposal_service_id,
    ("ReviewVote", "voter"): lambda vote: vote.voter_id,
    ("ReviewEvidence", "kpis"): lambda found: found.kpis,
    ("ReviewEvidence", "usageTrend"): lambda found: found.usage_trend,
}
#: Fields whose rows are always there (non-null in the schema).
_PRESENT = frozenset({(REVIEW, "openedBy"), ("ReviewItem", "service"),
                      ("ReviewVote", "voter")})


def compiled(type_name: str, below: Sequence[Selected]) -> list[tuple[str, Step]]:
    """One step per key of ``below`` on objects of ``type_name``."""
    fields = shapes.REVIEW_TYPES[type_name]
    steps: list[tuple[str, Step]] = []
    for part in below:
        target = fields.get(part.name)
        if target is None:  # __typename
            steps.append((part.key, _constant(type_name)))
        elif not target:
            steps.append((part.key, _value(type_name, part.name)))
        elif target in shapes.TYPES:
            steps.append((part.key, _row_step(type_name, part)))
        else:
            steps.append((part.key, _nested_step(type_name, part, target)))
    return steps


def _constant(name: str) -> Step:
    return lambda _rows, _obj: name


def _row_step(type_name: str, part: Selected) -> Step:
    pk_of, present, key = _BELOW[(type_name, part.name)], (type_name, part.name) in _PRESENT, \
        id(part)

    def step(rows: Rendered, obj: Any) -> Any:
        pk = pk_of(obj)
        shown = None if pk is None else rows[key].get(pk)
        if shown is None and present:
            raise NotPlannable("a row the executor reports missing")
        return shown

    return step


def _nested_step(type_name: str, part: Selected, target: str) -> Step:
    inner = compiled(target, part.below)
    below = _BELOW[(type_name, part.name)]
    many = target not in ("ReviewEvidence",)

    def one(rows: Rendered, obj: Any) -> dict[str, Any]:
        return {key: step(rows, obj) for key, step in inner}

    if many:
        return lambda rows, obj: [one(rows, each) for each in below(obj)]
    return lambda rows, obj: None if (found := below(obj)) is None else one(rows, found)


def _row_parts(type_name: str, below: Sequence[Selected], objects: list[Any],
               wanted: list[tuple[Selected, str, set[int]]]) -> None:
    """Every ``Service``/``Person`` selection under ``below``, with the ids it shows."""
    fields = shapes.REVIEW_TYPES[type_name]
    for part in below:
        target = fields.get(part.name)
        if not target:
            continue
        get = _BELOW[(type_name, part.name)]
        if target in shapes.TYPES:
            wanted.append((part, target, {pk for obj in objects
                                          if (pk := get(obj)) is not None}))
            continue
        inner: list[Any] = []
        for obj in objects:
            found = get(obj)
            if found is None:
                continue
            if isinstance(found, list | tuple):
                inner.extend(found)
            else:
                inner.append(found)
        _row_parts(target, part.below, inner, wanted)


async def review(run: PlanRun, selected: Selected) -> dict[str, Any] | None:
    """``portfolioReview(id)``: null for an id that is not a review of the organisation."""
    pk = database_id(run.arguments(selected)["id"], REVIEW)
    if pk is None:
        return None
    context = run.context
    items = next((part for part in selected.below if part.name == "items"), None)
    async with context.lock:
        try:
            row = await reads.review_of(context.session, run.actor, pk)
        except DomainError:
            return None
        try:
            views = (await reads.item_views(context.session, context.plugins, row)
                     if items is not None else [])
        except DomainError:
            raise NotPlannable("a refusal: the executor reports it") from None
    wanted: list[tuple[Selected, str, set[int]]] = []
    _row_parts(REVIEW, [part for part in selected.below if part.name != "items"], [row],
               wanted)
    if items is not None:
        _row_parts("ReviewItem", items.below, list(views), wanted)
    rows: Rendered = {}
    for part, target, ids in wanted:
        found = await run.by_id(target, sorted(ids))
        listed = [found[pk] for pk in sorted(ids) if pk in found]
        shown = await run.rendered(target, listed, part)
        rows[id(part)] = {record["id"]: view for record, view in zip(listed, shown,
                                                                     strict=True)}
    steps = run.plan.renderers.get((REVIEW, id(selected.below)))
    if steps is None:
        steps = run.plan.renderers[(REVIEW, id(selected.below))] = compiled(
            REVIEW, [part for part in selected.below if part.name != "items"])
    answer = {key: step(rows, row) for key, step in steps}
    if items is not None:
        item_steps = run.plan.renderers.get(("ReviewItem", id(items.below)))
        if item_steps is None:
            item_steps = run.plan.renderers[("ReviewItem", id(items.below))] = compiled(
                "ReviewItem", items.below)
        answer[items.key] = [{key: step(rows, view) for key, step in item_steps}
                             for view in views]
    return {part.key: answer[part.key] for part in selected.below}
