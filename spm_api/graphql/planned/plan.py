"""From a validated query document to a plan: the selection tree, checked once against
what the planned path can answer (``shapes``), cached per document and operation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)

from spm_api.graphql.planned import shapes


class NotPlannable(Exception):
    """The operation (or this request of it) goes to the executor."""


@dataclass(frozen=True)
class Selected:
    """One key of the answer: the field asked for, under its alias, and what is
    selected below it (flattened: fragments on the same type merged in)."""

    key: str
    name: str
    node: FieldNode
    below: tuple[Selected, ...] = ()


@dataclass(frozen=True)
class Plan:
    operation: OperationDefinitionNode
    roots: tuple[Selected, ...]
    #: Per GraphQL type, every column any selection of it needs.
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Whether an amount of money is shown (the organisation's currency is read once).
    uses_money: bool = False
    #: How each selection is rendered, compiled on first use (``render.renderer``).
    renderers: dict[tuple[str, int], Any] = field(default_factory=dict, compare=False)


ROOT_FIELDS = frozenset({"services", "service", "viewer", "node", "portfolioReview",
                         "reports", "__typename"})
CONNECTION_FIELDS = frozenset({"totalCount", "edges", "pageInfo", "__typename"})
EDGE_FIELDS = frozenset({"cursor", "node", "__typename"})
PAGE_INFO_FIELDS = frozenset({"hasNextPage", "hasPreviousPage", "startCursor", "endCursor",
                              "__typename"})
#: Subscription fields whose events a plan writes: the event's type, its fields that are
#: rows (by row type) and those the event itself carries.
EVENT_FIELDS: dict[str, tuple[str, dict[str, str], frozenset[str]]] = {
    "stageChanged": ("StageChangedEvent", {"stageChange": "StageChange", "service": "Service"},
                     frozenset({"cursor", "__typename"})),
}


def collect(selection_set: SelectionSetNode | None, type_name: str,
            fragments: dict[str, FragmentDefinitionNode],
            interface: str | None = None) -> tuple[Selected, ...]:
    """The fields under ``selection_set`` on ``type_name``, fragments flattened.
    Directives, fragments on other types and a key asked twice are not planned; under
    an ``interface`` field, fragments on the interface apply and those on other
    implementations are left out (they do not apply to a ``type_name`` row)."""
    if selection_set is None:
        return ()
    found: list[Selected] = []
    for selection in selection_set.selections:
        if selection.directives:
            raise NotPlannable("directives")
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            found.append(Selected(key, selection.name.value, selection))
            continue
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            inner = selection.selection_set
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments[selection.name.value]
            condition, inner = fragment.type_condition, fragment.selection_set
        else:  # pragma: no cover - graphql-core has no other selection
            raise NotPlannable(type(selection).__name__)
        if condition is not None and condition.name.value not in (type_name, interface):
            if interface is None:
                raise NotPlannable("a fragment on another type")
            continue
        found.extend(collect(inner, type_name, fragments, interface))
    keys = [selected.key for selected in found]
    if len(keys) != len(set(keys)):
        raise NotPlannable("a key asked twice")
    return tuple(found)


class _Builder:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.columns: dict[str, set[str]] = {}
        self.uses_money = False

    def below(self, selected: Selected, type_name: str, interface: str | None = None
              ) -> Selected:
        return Selected(selected.key, selected.name, selected.node,
                        collect(selected.node.selection_set, type_name, self.fragments,
                                interface))

    def only(self, selected: Selected, type_name: str, allowed: frozenset[str]) -> Selected:
        built = self.below(selected, type_name)
        for child in built.below:
            if child.name not in allowed:
                raise NotPlannable(f"{type_name}.{child.name}")
            if child.node.arguments:
                raise NotPlannable("arguments")
        return built

    def object(self, selected: Selected, type_name: str, interface: str | None = None
               ) -> Selected:
        """``selected`` on a row type: each field checked and its columns noted."""
        _, fields = shapes.TYPES[type_name]
        built = self.below(selected, type_name, interface)
        needed = self.columns.setdefault(type_name, {"id"})
        children: list[Selected] = []
        for child in built.below:
            if child.name == "__typename":
                children.append(child)
                continue
            shape = fields.get(child.name)
            if shape is None:
                raise NotPlannable(f"{type_name}.{child.name}")
            if child.node.arguments:
                raise NotPlannable("arguments")
            children.append(self.shaped(child, shape, needed))
        return Selected(built.key, built.name, built.node, tuple(children))

    def shaped(self, child: Selected, shape: shapes.Shape, needed: set[str]) -> Selected:
        if isinstance(shape, shapes.Column | shapes.Derived):
            needed.add(shape.column)
            return child
        if isinstance(shape, shapes.GlobalId):
            return child
        if isinstance(shape, shapes.MoneyOf):
            needed.add(shape.column)
            self.uses_money = True
            return self.only(child, "Money", shapes.MONEY_FIELDS)
        if isinstance(shape, shapes.One):
            needed.add(shape.column)
            return self.object(child, shape.target)
        if isinstance(shape, shapes.Many):
            return self.object(child, shape.target)
        return self.approval(child)

    def approval(self, selected: Selected) -> Selected:
        # An open round is worked out from its service's business case.
        self.columns.setdefault("Service", {"id"}).update(shapes.BALLOT_SERVICE)
        built = self.only(selected, "ApprovalRound", shapes.APPROVAL_FIELDS)
        children: list[Selected] = []
        for child in built.below:
            if child.name in ("votes", "voteHistory"):
                children.append(self.object(child, "Vote"))
            elif child.name == "verdicts":
                children.append(self.only(child, "RuleVerdict", shapes.RULE_VERDICT_FIELDS))
            else:
                children.append(child)
        return Selected(built.key, built.name, built.node, tuple(children))

    def review(self, selected: Selected) -> Selected:
        """``portfolioReview``: the review's own fields, its items with their evidence
        (``shapes.REVIEW_TYPES``), and the services and people they name as rows."""
        return self.composite(selected, "PortfolioReview")

    def composite(self, selected: Selected, type_name: str) -> Selected:
        fields = shapes.REVIEW_TYPES[type_name]
        built = self.below(selected, type_name)
        children: list[Selected] = []
        for child in built.below:
            if child.name == "__typename":
                children.append(child)
                continue
            if child.name not in fields:
                raise NotPlannable(f"{type_name}.{child.name}")
            if child.node.arguments:
                raise NotPlannable("arguments")
            target = fields[child.name]
            if target in shapes.TYPES:
                children.append(self.object(child, target))
            elif target in shapes.REVIEW_TYPES:
                children.append(self.composite(child, target))
            else:
                children.append(child)
        return Selected(built.key, built.name, built.node, tuple(children))

    def reports(self, selected: Selected) -> Selected:
        """``reports``: the finance reports of ``shapes.REPORT_FIELDS``, each with its own
        arguments; their rows' fields are values, amounts or services."""
        built = self.below(selected, "Reports")
        children: list[Selected] = []
        for child in built.below:
            row_type = shapes.REPORT_FIELDS.get(child.name)
            if child.name == "__typename":
                children.append(child)
            elif row_type is None:
                raise NotPlannable(f"Reports.{child.name}")
            else:
                children.append(self.report_rows(child, row_type))
        return Selected(built.key, built.name, built.node, tuple(children))

    def report_rows(self, selected: Selected, type_name: str) -> Selected:
        fields = shapes.REPORT_TYPES[type_name]
        built = self.below(selected, type_name)
        children: list[Selected] = []
        for child in built.below:
            if child.node.arguments:
                raise NotPlannable("arguments")
            target = fields.get(child.name)
            if child.name == "__typename" or target == "":
                children.append(child)
            elif target is None:
                raise NotPlannable(f"{type_name}.{child.name}")
            elif target == "Money":
                self.uses_money = True
                children.append(self.only(child, "Money", shapes.MONEY_FIELDS))
            elif target == "Service":
                children.append(self.object(child, "Service"))
            else:
                children.append(self.report_rows(child, target))
        return Selected(built.key, built.name, built.node, tuple(children))

    def root(self, selected: Selected) -> Selected:
        if selected.name == "portfolioReview":
            return self.review(selected)
        if selected.name == "reports":
            return self.reports(selected)
        if selected.name == "services":
            connection = self.only(selected, "ServiceConnection", CONNECTION_FIELDS)
            children: list[Selected] = []
            for child in connection.below:
                if child.name == "edges":
                    edge = self.only(child, "ServiceEdge", EDGE_FIELDS)
                    children.append(Selected(edge.key, edge.name, edge.node, tuple(
                        self.object(part, "Service") if part.name == "node" else part
                        for part in edge.below)))
                elif child.name == "pageInfo":
                    children.append(self.only(child, "PageInfo", PAGE_INFO_FIELDS))
                else:
                    children.append(child)
            return Selected(connection.key, connection.name, connection.node, tuple(children))
        if selected.name == "service":
            return self.object(selected, "Service")
        if selected.name == "viewer":
            return self.object(selected, "Person")
        if selected.name == "node":
            # One selection per type a node may turn out to be; which applies is known
            # from the id. A type the plan cannot answer leaves it to the executor.
            options: list[Selected] = []
            for type_name in shapes.TYPES:
                try:
                    option = self.object(selected, type_name, interface="Node")
                except NotPlannable:
                    continue
                options.append(Selected(type_name, selected.name, selected.node,
                                        option.below))
            return Selected(selected.key, selected.name, selected.node, tuple(options))
        return selected  # __typename


def plan_of(document: DocumentNode, operation_name: str | None) -> Plan | None:
    """The plan of the operation, or None when it is not a query the planned path can
    answer (mutations, subscriptions and unknown fields go to the executor)."""
    operations = [definition for definition in document.definitions
                  if isinstance(definition, OperationDefinitionNode)]
    fragments = {definition.name.value: definition for definition in document.definitions
                 if isinstance(definition, FragmentDefinitionNode)}
    chosen = [operation for operation in operations
              if operation_name is None or (operation.name and
                                            operation.name.value == operation_name)]
    if len(chosen) != 1 or chosen[0].operation is not OperationType.QUERY:
        return None
    operation = chosen[0]
    builder = _Builder(fragments)
    try:
        roots = collect(operation.selection_set, "Query", fragments)
        if not roots or any(root.name not in ROOT_FIELDS for root in roots):
            return None
        planned = tuple(builder.root(root) for root in roots)
    except NotPlannable:
        return None
    return Plan(operation, planned,
                {name: tuple(sorted(columns)) for name, columns in builder.columns.items()},
                builder.uses_money)


def plan_of_event(operation: OperationDefinitionNode,
                  fragments: dict[str, FragmentDefinitionNode]) -> Plan | None:
    """The plan of a subscription's events (``EVENT_FIELDS``): its one root field, whose
    rows are planned as ``object`` selections; None leaves every event to the executor."""
    if operation.operation is not OperationType.SUBSCRIPTION:
        return None
    builder = _Builder(fragments)
    try:
        roots = collect(operation.selection_set, "Subscription", fragments)
        if len(roots) != 1 or roots[0].name not in EVENT_FIELDS:
            return None
        event_type, rows, carried = EVENT_FIELDS[roots[0].name]
        event = builder.below(roots[0], event_type)
        children: list[Selected] = []
        for child in event.below:
            if child.node.arguments:
                raise NotPlannable("arguments")
            if child.name in rows:
                children.append(builder.object(child, rows[child.name]))
            elif child.name in carried:
                children.append(child)
            else:
                raise NotPlannable(f"{event_type}.{child.name}")
    except NotPlannable:
        return None
    return Plan(operation, (Selected(event.key, event.name, event.node, tuple(children)),),
                {name: tuple(sorted(columns)) for name, columns in builder.columns.items()},
                builder.uses_money)
