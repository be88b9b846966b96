"""Validation rules that bound what one document may ask for: its depth, counting every
field (introspection's too), its cost, and who may introspect.

Each rule is a class built once per schema, so the validation cache, keyed on the rule
classes, keeps hitting. A refusal is a GraphQL error with ``extensions.code`` and the
figures behind it; nothing has been executed when it is reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
    get_nullable_type,
)

#: Introspection's root fields (``__typename`` is an ordinary, harmless leaf).
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


def _fragments(context: ValidationContext) -> dict[str, FragmentDefinitionNode]:
    return {definition.name.value: definition for definition in context.document.definitions
            if isinstance(definition, FragmentDefinitionNode)}


def _operations(context: ValidationContext) -> Iterable[OperationDefinitionNode]:
    return (definition for definition in context.document.definitions
            if isinstance(definition, OperationDefinitionNode))


def selection_depth(selection_set: SelectionSetNode | None,
                    fragments: dict[str, FragmentDefinitionNode],
                    seen: frozenset[str] = frozenset()) -> int:
    """How many fields deep ``selection_set`` nests below its own fields: 0 for leaves
    only, every field counted, introspection's included; a fragment cycle (refused by
    another rule) is not followed twice."""
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.selection_set is not None:
                deepest = max(deepest,
                              1 + selection_depth(selection.selection_set, fragments, seen))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, selection_depth(selection.selection_set, fragments, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                deepest = max(deepest, selection_depth(fragment.selection_set, fragments,
                                                       seen | {name}))
    return deepest


def root_fields(selection_set: SelectionSetNode,
                fragments: dict[str, FragmentDefinitionNode],
                seen: frozenset[str] = frozenset()) -> Iterable[FieldNode]:
    """The operation's root fields, through any fragments written at the root."""
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from root_fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                yield from root_fields(fragment.selection_set, fragments, seen | {name})


def depth_limit(max_depth: int, max_introspection_depth: int) -> type[ValidationRule]:
    """A rule refusing operations nested deeper than ``max_depth`` (``{ a { b } }`` is
    1 deep) with ``QUERY_TOO_DEEP``. Every field counts; below ``__schema`` and
    ``__type`` the limit is ``max_introspection_depth``, since the standard
    introspection query (GraphiQL's, code generators') is 14 deep."""

    class DepthLimit(ValidationRule):
        def enter_document(self, *_args: Any) -> None:
            fragments = _fragments(self.context)
            for operation in _operations(self.context):
                for field in root_fields(operation.selection_set, fragments):
                    limit = (max_introspection_depth
                             if field.name.value in INTROSPECTION_FIELDS else max_depth)
                    depth = (1 + selection_depth(field.selection_set, fragments)
                             if field.selection_set is not None else 0)
                    if depth > limit:
                        self.report_error(GraphQLError(
                            f"'{field.name.value}' is {depth} fields deep, deeper than the "
                            f"limit of {limit}", field,
                            extensions={"code": "QUERY_TOO_DEEP", "depth": depth,
                                        "maxDepth": limit}))
                        return

    return DepthLimit


#: A connection's fields that hold one entry per item of the page.
PAGE_FIELDS = frozenset({"edges", "nodes"})


def alias_limit(max_aliases: int) -> type[ValidationRule]:
    """A rule refusing documents with more than ``max_aliases`` aliases with
    ``TOO_MANY_ALIASES`` (each alias runs its field once more)."""

    class AliasLimit(ValidationRule):
        count = 0

        def enter_field(self, node: FieldNode, *_args: Any) -> None:
            if node.alias is not None:
                self.count += 1

        def leave_document(self, node: Any, *_args: Any) -> None:
            if self.count > max_aliases:
                self.report_error(GraphQLError(
                    f"the document uses {self.count} aliases, more than the limit of "
                    f"{max_aliases}", node,
                    extensions={"code": "TOO_MANY_ALIASES", "aliases": self.count,
                                "maxAliases": max_aliases}))

    return AliasLimit


class _Cost:
    """The cost of selections over a schema; fragments are costed once per type."""

    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode],
                 page_size: int, list_size: int) -> None:
        self.schema = schema
        self.fragments = fragments
        self.page_size = page_size
        self.list_size = list_size
        self.memo: dict[tuple[str, int | None], int] = {}

    def selections(self, selection_set: SelectionSetNode | None,
                   parent: GraphQLNamedType | None, seen: frozenset[str],
                   page: int | None = None) -> int:
        """The cost of ``selection_set`` on ``parent``; ``page`` is the number of items
        of the connection ``parent`` is, when it is one."""
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, seen, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = (self.schema.get_type(selection.type_condition.name.value)
                             if selection.type_condition else parent)
                total += self.selections(selection.selection_set, condition, seen, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.spread(selection.name.value, seen, page)
        return total

    def spread(self, name: str, seen: frozenset[str], page: int | None) -> int:
        fragment = self.fragments.get(name)
        if fragment is None or name in seen:
            return 0
        if (name, page) not in self.memo:
            condition = self.schema.get_type(fragment.type_condition.name.value)
            self.memo[name, page] = self.selections(fragment.selection_set, condition,
                                                    seen | {name}, page)
        return self.memo[name, page]

    def field(self, node: FieldNode, parent: GraphQLNamedType | None,
              seen: frozenset[str], page: int | None) -> int:
        name = node.name.value
        if name.startswith("__"):  # introspection: limited by depth and by who asks
            return 0
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 1
        definition = parent.fields.get(name)
        if definition is None:  # unknown fields are another rule's refusal
            return 1
        named = get_named_type(definition.type)
        if named is not None and named.name.endswith("Connection"):
            # What the page holds is counted where it is listed: edges, nodes.
            return 1 + self.selections(node.selection_set, named, seen,
                                       self.page_items(node))
        if page is not None and name in PAGE_FIELDS:
            times = page
        elif isinstance(get_nullable_type(definition.type), GraphQLList):
            times = self.list_size
        else:
            times = 1
        return 1 + times * self.selections(node.selection_set, named, seen)

    def page_items(self, node: FieldNode) -> int:
        """A connection's ``first``/``last`` when written as a number (at most the
        largest page), the largest page otherwise (absent, or a variable)."""
        sizes = [int(argument.value.value) for argument in node.arguments or ()
                 if argument.name.value in ("first", "last")
                 and isinstance(argument.value, IntValueNode)]
        return max(0, min(max(sizes), self.page_size)) if sizes else self.page_size


def cost_limit(max_cost: int, page_size: int, list_size: int) -> type[ValidationRule]:
    """A rule refusing operations whose cost passes ``max_cost`` with ``QUERY_TOO_COSTLY``.

    Every field costs 1, and what is selected under a list costs once per item it may
    return: a connection's edges and nodes its ``first``/``last`` (the largest page when
    absent or given by a variable), a plain list ``list_size``. Introspection costs
    nothing here: depth and authentication bound it.
    """

    class CostLimit(ValidationRule):
        def enter_document(self, *_args: Any) -> None:
            schema = self.context.schema
            costing = _Cost(schema, _fragments(self.context), page_size, list_size)
            for operation in _operations(self.context):
                root = schema.get_root_type(operation.operation)
                cost = costing.selections(operation.selection_set, root, frozenset())
                if cost > max_cost:
                    self.report_error(GraphQLError(
                        f"the operation costs {cost}, more than the budget of {max_cost}",
                        operation,
                        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost,
                                    "maxCost": max_cost}))

    return CostLimit


def document_cost(schema: GraphQLSchema, document: DocumentNode, page_size: int,
                  list_size: int) -> int:
    """The cost ``cost_limit`` gives ``document``, summed over its operations: what a
    rate limit on cost counts."""
    fragments = {definition.name.value: definition for definition in document.definitions
                 if isinstance(definition, FragmentDefinitionNode)}
    costing = _Cost(schema, fragments, page_size, list_size)
    return sum(costing.selections(definition.selection_set,
                                  schema.get_root_type(definition.operation), frozenset())
               for definition in document.definitions
               if isinstance(definition, OperationDefinitionNode))


def _introspection_refusal(code: str, message: str) -> type[ValidationRule]:
    class NoIntrospection(ValidationRule):
        def enter_field(self, node: FieldNode, *_args: Any) -> None:
            if node.name.value in INTROSPECTION_FIELDS:
                self.report_error(GraphQLError(message, node, extensions={"code": code}))

    return NoIntrospection


#: Anonymous requests may not introspect (``SPM_INTROSPECTION=authenticated``).
IntrospectionNeedsToken = _introspection_refusal(
    "UNAUTHENTICATED", "introspection needs a valid API token")
#: Nobody may introspect (``SPM_INTROSPECTION=off``).
IntrospectionDisabled = _introspection_refusal(
    "INTROSPECTION_DISABLED", "introspection is disabled on this server")
