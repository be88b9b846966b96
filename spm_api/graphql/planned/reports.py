"""``reports`` on the planned path: each finance report worked out by the domain function
the executor's resolver calls (a handful of grouped statements), its rows written
straight into the answer, and the services they name read as planned rows, all of a
report's at once.

A report the domain refuses (a bad month range, an id of another type) is handed to the
executor, which words the refusal; so is a selection the plan does not know
(``CustomerCharges.customer``, ``pipelineRanking``, ``investmentMix``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from graphql import GraphQLObjectType
from graphql.execution.values import get_argument_values

from spm_api.domain.finance import books as finance_books
from spm_api.domain.finance import reports
from spm_api.graphql.core.ids import database_id
from spm_api.graphql.planned import shapes
from spm_api.graphql.planned.plan import NotPlannable, Selected
from spm_api.vocabulary import money
from spm_api.vocabulary.errors import DomainError

if TYPE_CHECKING:
    from spm_api.graphql.planned.run import PlanRun

REPORTS = "Reports"
HUNDREDTHS = Decimal("0.01")

Getter = Callable[[Any], Any]


def _text(value: Decimal | None) -> str | None:
    """A Decimal as Strawberry's ``Decimal`` scalar writes it."""
    return None if value is None else str(value)


def _percent(row: reports.VarianceRow) -> str | None:
    """``VarianceRow.variancePercent``, as the executor works it out."""
    if row.budget == 0:
        return None
    return str((row.variance / row.budget * 100).quantize(HUNDREDTHS))


#: Per report type, how each value field is read from the domain's row.
VALUES: dict[str, dict[str, Getter]] = {
    "VarianceRow": {"category": lambda row: row.category, "period": lambda row: row.period,
                    "variancePercent": _percent},
    "InvestmentRow": {"investmentCategory": lambda row: shapes.enum_name(
                          row.investment_category),
                      "section": lambda row: shapes.enum_name(row.section),
                      "services": lambda row: row.services},
    "CustomerCharges": {"statements": lambda row: row.statements},
    "CostRecovery": {"rate": lambda row: _text(row.rate)},
}
#: Per report type, the amount each ``Money`` field shows.
AMOUNTS: dict[str, dict[str, Getter]] = {
    "VarianceRow": {"budget": lambda row: row.budget, "actual": lambda row: row.actual,
                    "variance": lambda row: row.variance},
    "InvestmentRow": {"estimatedCost": lambda row: row.estimated_cost,
                      "expectedBenefit": lambda row: row.expected_benefit,
                      "budget": lambda row: row.budget, "actual": lambda row: row.actual},
    "CustomerCharges": {"billed": lambda row: row.billed,
                        "notional": lambda row: row.notional},
    "CostRecovery": {"actualCost": lambda row: row.actual,
                     "charged": lambda row: row.charged},
}


async def reports_of(run: PlanRun, selected: Selected) -> dict[str, Any]:
    """``reports { ... }``: each report asked for, in the order asked."""
    reports_type = run.schema.get_type(REPORTS)
    assert isinstance(reports_type, GraphQLObjectType)
    shown: dict[str, Any] = {}
    for part in selected.below:
        if part.name == "__typename":
            shown[part.key] = REPORTS
            continue
        arguments = get_argument_values(reports_type.fields[part.name], part.node,
                                        run.variables)
        type_name, read = _READS[part.name]
        try:
            async with run.context.lock:
                rows = await read(run, arguments)
        except DomainError:
            raise NotPlannable("a refusal: the executor reports it") from None
        if part.name != "budgetVsActual":
            shown[part.key] = await _rows(run, type_name, rows, part.below)
            continue
        total = reports.VarianceRow(None, None, None,
                                    sum((row.budget for row in rows), Decimal(0)),
                                    sum((row.actual for row in rows), Decimal(0)))
        answer: dict[str, Any] = {}
        for inner in part.below:
            if inner.name == "rows":
                answer[inner.key] = await _rows(run, type_name, rows, inner.below)
            elif inner.name == "total":
                (answer[inner.key],) = await _rows(run, type_name, [total], inner.below)
            else:
                answer[inner.key] = "BudgetVsActual"
        shown[part.key] = answer
    return shown


async def _budget_vs_actual(run: PlanRun, arguments: dict[str, Any]) -> Sequence[Any]:
    session, actor = run.context.session, run.actor
    months = reports.Months.parse(arguments["fromPeriod"], arguments["toPeriod"])
    group_by = arguments.get("groupBy")
    dimensions = ([reports.Dimension.SERVICE] if group_by is None
                  else [reports.Dimension(value) for value in group_by])
    ids = []
    for raw in arguments.get("serviceIds") or ():
        pk = database_id(raw, "Service")
        if pk is None:
            raise NotPlannable("an id of another type: the executor refuses it")
        ids.append(pk)
    books = await finance_books.books_of(session, actor.organisation_id)
    return await reports.budget_vs_actual(session, actor, months, dimensions, ids,
                                          books.fiscal_year_start_month)


async def _investment(run: PlanRun, arguments: dict[str, Any]) -> Sequence[Any]:
    session, actor = run.context.session, run.actor
    books = await finance_books.books_of(session, actor.organisation_id)
    return await reports.investment(session, actor, arguments["fiscalYear"],
                                    books.fiscal_year_start_month)


async def _charges(run: PlanRun, arguments: dict[str, Any]) -> Sequence[Any]:
    months = reports.Months.parse(arguments["fromPeriod"], arguments["toPeriod"])
    return await reports.charges_per_customer(run.context.session, run.actor, months)


async def _recovery(run: PlanRun, arguments: dict[str, Any]) -> Sequence[Any]:
    months = reports.Months.parse(arguments["fromPeriod"], arguments["toPeriod"])
    return await reports.cost_recovery(run.context.session, run.actor, months)


#: Per report field: the type of its rows, and the domain read that works them out.
_READS: dict[str, tuple[str, Callable[[PlanRun, dict[str, Any]], Any]]] = {
    "budgetVsActual": ("VarianceRow", _budget_vs_actual),
    "investment": ("InvestmentRow", _investment),
    "chargesPerCustomer": ("CustomerCharges", _charges),
    "costRecovery": ("CostRecovery", _recovery),
}


async def _rows(run: PlanRun, type_name: str, rows: Sequence[Any],
                below: Sequence[Selected]) -> list[dict[str, Any]]:
    """The report's rows as the answer shows them; the services they name read once per
    selection of them."""
    services: dict[int, dict[int, Any]] = {}
    for part in below:
        if part.name == "service":
            wanted = sorted({row.service_id for row in rows if row.service_id is not None})
            found = await run.by_id("Service", wanted)
            listed = [found[pk] for pk in wanted if pk in found]
            rendered = await run.rendered("Service", listed, part)
            services[id(part)] = {record["id"]: view
                                  for record, view in zip(listed, rendered, strict=True)}
    values, amounts, currency = VALUES[type_name], AMOUNTS[type_name], run.currency
    shown: list[dict[str, Any]] = []
    for row in rows:
        answer: dict[str, Any] = {}
        for part in below:
            if part.name in values:
                answer[part.key] = values[part.name](row)
            elif part.name in amounts:
                amount = str(money.rounded(amounts[part.name](row), currency))
                answer[part.key] = {inner.key: {"amount": amount, "currency": currency,
                                                "__typename": "Money"}[inner.name]
                                    for inner in part.below}
            elif part.name == "service":
                answer[part.key] = (None if row.service_id is None
                                    else services[id(part)].get(row.service_id))
            else:
                answer[part.key] = type_name
        shown.append(answer)
    return shown
