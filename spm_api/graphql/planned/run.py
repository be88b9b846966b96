"""Running a plan: one statement per relation in the selection, rows as tuples, the
answer built straight from them in the shape and order the executor gives."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import fields
from operator import itemgetter
from types import SimpleNamespace
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.relay.utils import SliceMetadata, to_base64
from strawberry.utils.str_converters import to_snake_case as to_snake

from spm_api.domain import plain, projections, reads
from spm_api.domain.approvals.rounds import RoundResult, current_votes, result_of
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.ids import database_id, parse_global_id
from spm_api.graphql.planned import shapes
from spm_api.graphql.planned.plan import NotPlannable, Plan, Selected
from spm_api.graphql.planned.render import renderer
from spm_api.vocabulary.errors import DomainError

CURSOR_PREFIX = "arrayconnection"  # Strawberry's ListConnection cursors
ROUND_COLUMNS = ("id", "opened_at", "closed_at", "outcome", "verdicts")
#: What is read of a round whose result is not asked for.
SHOWN_ROUND_COLUMNS = ("id", "opened_at", "closed_at")
#: What a ballot reads of a vote and of its service (``rounds.build_ballot``).
BALLOT_VOTE = ("id", "voter_id", "decision", "comment", "cast_at")

Record = dict[Any, Any]
#: The key a child record keeps its parent's id under (not a column: no step reads it).
PARENT = "@parent"


def listing_arguments(where: dict[str, Any] | None, order: dict[str, Any] | None
                      ) -> tuple[reads.ServiceFilter | None, reads.ServiceOrder | None]:
    """``services``' filter and order as the executor's resolver turns them into the
    domain's (the same input types); one it would refuse is left to it."""
    from spm_api.graphql.portfolio.inputs import ServiceFilter, ServiceOrder

    if where and where.get("health"):
        # Health is the health model's verdict (a plugin), worked out by the executor.
        raise NotPlannable("a health filter")
    try:
        return (ServiceFilter(**{to_snake(key): value for key, value in where.items()}
                              ).to_domain() if where else None,
                ServiceOrder(**{to_snake(key): value for key, value in order.items()}
                             ).to_domain() if order else None)
    except DomainError as refused:
        raise NotPlannable(str(refused)) from None


def frozen(where: reads.ServiceFilter | None) -> Hashable:
    """A filter as a key: its lists (as GraphQL input gives them) made tuples."""
    if where is None:
        return None
    values = (getattr(where, field.name) for field in fields(where))
    return tuple(tuple(value) if isinstance(value, list) else value for value in values)


def latest_of_each_voter(votes: list[Record]) -> list[Record]:
    """``rounds.current_votes`` (the domain's rule) over vote records."""
    return current_votes(votes, itemgetter("id"), itemgetter("voter_id"))


Span = tuple[int, tuple[str, ...], dict[int, Record]]


def _spans(joins: list[tuple[projections.Join, dict[int, Record]]], start: int
           ) -> list[Span]:
    """Per join: where its row's id is in a result row, its names, where it is kept."""
    spans = []
    for (_, _, wanted), known in joins:
        spans.append((start, ("id", *wanted), known))
        start += 1 + len(wanted)
    return spans


def _keep_joined(row: Sequence[Any], spans: list[Span]) -> None:
    for at, names, known in spans:
        pk = row[at]
        if pk is not None and pk not in known:
            known[pk] = dict(zip(names, row[at:at + len(names)], strict=True))


class PlanRun:
    """One request's run of a plan, in the request's session and organisation."""

    def __init__(self, plan: Plan, context: Context, schema: GraphQLSchema,
                 variables: VariableValues, max_page_size: int, currency: str | None = None
                 ) -> None:
        assert context.actor is not None
        self.plan = plan
        self.context = context
        self.actor = context.actor
        self.organisation_id = context.actor.organisation_id
        self.schema = schema
        self.query_type: GraphQLObjectType = schema.query_type  # type: ignore[assignment]
        self.variables = variables
        self.max_page_size = max_page_size
        self.currency = currency or ""
        #: Rows read by a join, per GraphQL type, by id (``children``).
        self.known: dict[str, dict[int, Record]] = {}
        self._reader: plain.Reader | None = None

    async def answer(self) -> dict[str, Any]:
        await self.read_currency()
        data: dict[str, Any] = {}
        for root in self.plan.roots:
            data[root.key] = await self.root(root)
        return data

    async def read_currency(self) -> None:
        """The organisation's currency, read once when an amount is shown."""
        if self.plan.uses_money and not self.currency:
            async with self.context.lock:
                self.currency = await projections.currency_of(self.context.session,
                                                              self.organisation_id)

    # --- roots ------------------------------------------------------------------------

    def arguments(self, selected: Selected) -> dict[str, Any]:
        definition = self.query_type.fields[selected.name]
        return get_argument_values(definition, selected.node, self.variables)

    async def root(self, selected: Selected) -> Any:
        if selected.name == "__typename":
            return "Query"
        if selected.name == "services":
            return await self.services(selected)
        if selected.name == "service":
            pk = database_id(self.arguments(selected)["id"], "Service")
            if pk is None:
                return None
            found = await self.by_id("Service", [pk])
            return await self.rendered("Service", [found[pk]] if pk in found else [],
                                       selected, none_when_empty=True)
        if selected.name == "node":
            return await self.node(selected)
        if selected.name == "portfolioReview":
            from spm_api.graphql.planned import reviews

            return await reviews.review(self, selected)
        if selected.name == "reports":
            from spm_api.graphql.planned import reports

            return await reports.reports_of(self, selected)
        found = await self.by_id("Person", [self.actor.person_id])
        return await self.rendered("Person", [found[self.actor.person_id]], selected,
                                   none_when_empty=True)

    async def node(self, selected: Selected) -> Any:
        """``node(id)``: the option planned for the id's type (each option's key is its
        type name), read in the organisation like the executor's loaders."""
        raw = self.arguments(selected)["id"]
        global_id = parse_global_id(raw)
        option = next((option for option in selected.below
                       if global_id is not None and option.key == global_id.type_name), None)
        if global_id is None or option is None:
            raise NotPlannable("an id the plan does not read")
        pk = database_id(raw, option.key)
        if pk is None:
            return None
        found = await self.by_id(option.key, [pk])
        return await self.rendered(option.key, [found[pk]] if pk in found else [], option,
                                   none_when_empty=True)

    async def services(self, selected: Selected) -> dict[str, Any]:
        arguments = self.arguments(selected)
        if arguments.get("last") is not None or arguments.get("before") is not None:
            raise NotPlannable("backward paging")
        where, order = listing_arguments(arguments.get("filter"), arguments.get("orderBy"))
        try:
            window = SliceMetadata.from_arguments(
                None,  # type: ignore[arg-type]  # only read without max_results
                after=arguments.get("after"), first=arguments.get("first"),
                max_results=self.max_page_size, prefix=CURSOR_PREFIX)
        except (ValueError, TypeError) as refused:  # the executor words the refusal
            raise NotPlannable(str(refused)) from None
        def listing() -> reads.Listing[Any]:
            return reads.services(self.actor, where, order)

        columns = self.plan.columns.get("Service", ("id",))
        rows: list[Record] = []
        total: int | None = None
        counted = any(part.name == "totalCount" for part in selected.below)
        if any(part.name in ("edges", "pageInfo") for part in selected.below):
            async with self.context.lock:
                fetched, total = await projections.page(
                    self.context.session, listing, columns, window.start,
                    window.overfetch - window.start, counted,
                    built_from=(self.organisation_id, frozen(where), order))
            rows = [dict(zip(columns, row, strict=True)) for row in fetched]
        has_next = window.expected is not None and len(rows) == window.expected + 1
        if has_next:
            rows = rows[:-1]
        cursors = [to_base64(CURSOR_PREFIX, window.start + index) for index in range(len(rows))]
        answer: dict[str, Any] = {}
        for part in selected.below:
            if part.name == "totalCount":
                if total is None:
                    async with self.context.lock:
                        total = await listing().count(self.context.session)
                answer[part.key] = total
            elif part.name == "edges":
                answer[part.key] = await self.edges(part, rows, cursors)
            elif part.name == "pageInfo":
                answer[part.key] = {
                    info.key: {"hasNextPage": has_next,
                               "hasPreviousPage": window.start > 0,
                               "startCursor": cursors[0] if cursors else None,
                               "endCursor": cursors[-1] if cursors else None,
                               "__typename": "PageInfo"}[info.name]
                    for info in part.below}
            else:
                answer[part.key] = "ServiceConnection"
        return answer

    async def edges(self, selected: Selected, rows: list[Record], cursors: list[str]
                    ) -> list[dict[str, Any]]:
        node = next((part for part in selected.below if part.name == "node"), None)
        nodes = await self.rendered("Service", rows, node) if node else [{} for _ in rows]
        return [{part.key: (cursor if part.name == "cursor" else
                            rendered if part.name == "node" else "ServiceEdge")
                 for part in selected.below}
                for cursor, rendered in zip(cursors, nodes, strict=True)]

    # --- rows -------------------------------------------------------------------------

    async def reader(self) -> plain.Reader:
        """The driver's connection, looked up for the first statement of the request."""
        if self._reader is None:
            self._reader = await plain.reader(self.context.session)
        return self._reader

    async def by_id(self, type_name: str, ids: Sequence[int]) -> dict[int, Record]:
        relation, _ = shapes.TYPES[type_name]
        columns = [column for column in self.plan.columns.get(type_name, ("id",))
                   if column != "id"]
        async with self.context.lock:
            found = await projections.by_id(await self.reader(), relation,
                                            self.organisation_id, ids, columns)
        names = ("id", *columns)
        return {row[0]: dict(zip(names, row, strict=True)) for row in found}

    async def children(self, relation: str, columns: Sequence[str],
                       parent_ids: Sequence[int], child_type: str | None = None
                       ) -> dict[int, list[Record]]:
        """Rows of a child relation per parent id, as records of ``columns``; the
        people (and other rows of no relations of their own) the plan shows of each
        child are read in the same statement and kept for ``fill``."""
        joins = self.joins(child_type) if child_type else []
        async with self.context.lock:
            found = await projections.children(await self.reader(), relation,
                                               self.organisation_id, parent_ids, columns,
                                               [join for join, _ in joins])
        # Each row starts with its parent's id: kept under PARENT, which no step reads.
        names = (PARENT, *columns)
        grouped: defaultdict[int, list[Record]] = defaultdict(list)
        if not joins:
            for row in found:
                grouped[row[0]].append(dict(zip(names, row, strict=True)))
            return grouped
        spans = _spans(joins, len(names))
        for row in found:
            grouped[row[0]].append(dict(zip(names, row, strict=False)))  # joins follow
            _keep_joined(row, spans)
        return grouped

    async def latest_rounds(self, service_ids: Sequence[int], columns: tuple[str, ...],
                            vote_columns: tuple[str, ...]
                            ) -> tuple[dict[int, Record], dict[int, list[Record]]]:
        """Each service's latest approval round and that round's votes (with the voters
        the plan shows), in one statement."""
        joins = self.joins("Vote")
        async with self.context.lock:
            found = await projections.latest_with_children(
                await self.reader(), "approval_rounds_of_service", self.organisation_id,
                service_ids, columns, "votes_of_round", vote_columns,
                [join for join, _ in joins])
        rounds_end = 1 + len(columns)
        votes_end = rounds_end + len(vote_columns)
        vote_id_at = rounds_end + vote_columns.index("id")
        spans = _spans(joins, votes_end)
        latest: dict[int, Record] = {}
        votes: defaultdict[int, list[Record]] = defaultdict(list)
        for row in found:
            if row[0] not in latest:
                latest[row[0]] = dict(zip(columns, row[1:rounds_end], strict=True))
            if row[vote_id_at] is None:  # a round without votes
                continue
            votes[row[1]].append(dict(zip(vote_columns, row[rounds_end:votes_end],
                                          strict=True)))
            _keep_joined(row, spans)
        return latest, votes

    def joins(self, child_type: str) -> list[tuple[projections.Join, dict[int, Record]]]:
        """The rows ``child_type``'s selected ``One`` fields point to that have no
        relations of their own (people), read with it by a join."""
        _, fields = shapes.TYPES[child_type]
        selected = self.plan.columns.get(child_type, ())
        found = []
        for shape in fields.values():
            if (isinstance(shape, shapes.One) and shape.column in selected
                    and shapes.is_leaf_type(shape.target)):
                relation, _ = shapes.TYPES[shape.target]
                wanted = tuple(column for column in self.plan.columns.get(shape.target, ("id",))
                               if column != "id")
                found.append(((shape.column, relation, wanted),
                              self.known.setdefault(shape.target, {})))
        return found

    # --- filling and rendering --------------------------------------------------------

    async def rendered(self, type_name: str, rows: list[Record], selected: Selected,
                       none_when_empty: bool = False) -> Any:
        """``rows`` of ``type_name`` as the answer shows them (one statement per
        relation selected below, for all rows at once)."""
        await self.fill(type_name, rows, selected.below)
        shown = self.render_all(type_name, rows, selected.below)
        if none_when_empty:
            return shown[0] if shown else None
        return shown

    async def fill(self, type_name: str, rows: list[Record], below: Sequence[Selected]
                   ) -> None:
        _, fields = shapes.TYPES[type_name]
        for part in below:
            shape = fields.get(part.name)
            if isinstance(shape, shapes.Many):
                grouped = await self.children(shape.relation,
                                              self.plan.columns.get(shape.target, ("id",)),
                                              [row["id"] for row in rows], shape.target)
                for row in rows:
                    row[("many", part.key)] = grouped.get(row["id"], [])
                await self.fill(shape.target, [child for row in rows
                                               for child in row[("many", part.key)]],
                                part.below)
            elif isinstance(shape, shapes.One):
                wanted = {row[shape.column] for row in rows if row[shape.column] is not None}
                known = self.known.get(shape.target, {})
                missing = sorted(pk for pk in wanted if pk not in known)
                found = {**known, **(await self.by_id(shape.target, missing) if missing
                                     else {})}
                targets = {pk: found[pk] for pk in wanted if pk in found}
                for row in rows:
                    row[("one", part.key)] = targets.get(row[shape.column])
                await self.fill(shape.target, list(targets.values()), part.below)
            elif isinstance(shape, shapes.ApprovalOf):
                await self.approvals(rows, part)

    async def approvals(self, rows: list[Record], selected: Selected) -> None:
        """Each service's latest round. A closed round's result is frozen on it and read
        with the round; an open one is worked out by the same domain function, loaders
        and plugins the executor uses."""
        # Only ``status`` and ``verdicts`` ask the rules (as in the executor); only then
        # is a round's outcome and its frozen verdicts read.
        judged = any(part.name in ("status", "verdicts") for part in selected.below)
        vote_columns = tuple(sorted({*self.plan.columns.get("Vote", ("id",)), *BALLOT_VOTE}))
        latest, votes = await self.latest_rounds(
            [row["id"] for row in rows], ROUND_COLUMNS if judged else SHOWN_ROUND_COLUMNS,
            vote_columns)
        open_ids = {service_id for service_id, round_ in latest.items()
                    if round_["outcome"] is None} if judged else set()
        evaluated = await self.open_rounds(
            [row for row in rows if row["id"] in open_ids], latest, votes
        ) if open_ids else {}
        # The decision makers (with the rules, settings and books: four statements) are
        # read only when asked for; an open round's evaluation reads them itself.
        wanted = any(part.name == "decisionMakerCount" for part in selected.below)
        setup = (await self.context.loaders.approval_setup.load(self.organisation_id)
                 if latest and wanted else None)
        for row in rows:
            round_ = latest.get(row["id"])
            if round_ is None:
                row[("approval", selected.key)] = None
                continue
            cast = votes.get(round_["id"], [])
            result = evaluated.get(row["id"]) or (
                RoundResult.thawed(round_["outcome"], round_["verdicts"] or [])
                if judged and round_["outcome"] is not None else None)
            row[("approval", selected.key)] = SimpleNamespace(
                round=SimpleNamespace(**round_), all_votes=cast, result=result,
                decision_maker_count=len(setup.decision_makers) if setup else None)
            for part in selected.below:
                if part.name in ("votes", "voteHistory"):
                    row[("votes", selected.key, part.key)] = (
                        latest_of_each_voter(cast) if part.name == "votes" else cast)
        for part in selected.below:
            if part.name in ("votes", "voteHistory"):
                await self.fill("Vote", [vote for row in rows for vote in
                                         row.get(("votes", selected.key, part.key), [])],
                                part.below)

    async def open_rounds(self, services: list[Record], latest: dict[int, Record],
                          votes: dict[int, list[Record]]) -> dict[int, RoundResult]:
        """Open rounds worked out by the domain's ``result_of`` from the rows already
        read, with the loaders' setup and budgets, as the executor does (concurrently,
        so a slow rule costs one time limit). A result is kept on the request's loaders,
        so a refusal the executor then reports does not call the plugins again."""
        loaders = self.context.loaders
        setup = await loaders.approval_setup.load(self.organisation_id)
        budgets = await loaders.monthly_budget_of_service.load_many(
            [service["id"] for service in services])
        cases = await loaders.case_years_of_service.load_many(
            [service["id"] for service in services])

        async def result(service: Record, budget: Any, case: Any) -> Any:
            round_ = latest[service["id"]]
            found = loaders.round_results.get(round_["id"])
            if found is None:
                # The rows as the attribute bags the domain reads (it reads, never writes).
                as_service: Any = SimpleNamespace(**{
                    key: (projections.decimal(value) if key in shapes.BALLOT_AMOUNTS
                          else value)
                    for key, value in service.items() if isinstance(key, str)})
                as_round: Any = SimpleNamespace(**round_)
                as_votes: Any = [SimpleNamespace(**vote) for vote in votes.get(round_["id"], [])]
                try:
                    found = await result_of(self.context.plugins, as_service, as_round,
                                            as_votes, setup, budget, case)
                except DomainError as refused:
                    found = refused
                loaders.round_results[round_["id"]] = found
            return found

        results = await asyncio.gather(*(result(service, budget, case)
                                         for service, budget, case in zip(
                                             services, budgets, cases, strict=True)))
        if any(isinstance(found, DomainError) for found in results):
            raise NotPlannable("an approval rule refused: the executor reports it")
        return {service["id"]: found for service, found in zip(services, results, strict=True)}

    def render(self, type_name: str, row: Record, below: Sequence[Selected]) -> dict[str, Any]:
        return renderer(type_name, below, self.plan.renderers)(self, row)

    def render_all(self, type_name: str, rows: list[Record], below: Sequence[Selected]
                   ) -> list[dict[str, Any]]:
        write = renderer(type_name, below, self.plan.renderers)
        return [write(self, row) for row in rows]

    def money(self, amount: Any, selected: Selected) -> dict[str, Any] | None:
        if amount is None:
            return None
        currency = self.currency
        values = {"amount": projections.amount_text(amount, currency), "currency": currency,
                  "__typename": "Money"}
        return {part.key: values[part.name] for part in selected.below}

    def approval(self, row: Record, selected: Selected) -> dict[str, Any] | None:
        view = row[("approval", selected.key)]
        if view is None:
            return None
        shown: dict[str, Any] = {}
        for part in selected.below:
            if part.name == "status":
                shown[part.key] = view.result.status.name
            elif part.name == "openedAt":
                shown[part.key] = shapes.iso(view.round.opened_at)
            elif part.name == "closedAt":
                shown[part.key] = shapes.iso(view.round.closed_at)
            elif part.name == "decisionMakerCount":
                shown[part.key] = view.decision_maker_count
            elif part.name in ("votes", "voteHistory"):
                shown[part.key] = self.render_all("Vote", row[("votes", selected.key,
                                                              part.key)], part.below)
            elif part.name == "verdicts":
                shown[part.key] = [
                    {inner.key: {"rule": verdict.rule, "plugin": verdict.plugin,
                                 "status": verdict.status.name,
                                 "explanation": verdict.explanation,
                                 "__typename": "RuleVerdict"}[inner.name]
                     for inner in part.below}
                    for verdict in view.result.verdicts]
            else:
                shown[part.key] = "ApprovalRound"
        return shown
