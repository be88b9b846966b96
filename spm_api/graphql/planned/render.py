"""A selection on a row type compiled into one Python function that writes the answer's
object for a row: the keys in the executor's order, each value one expression, the
objects below it written by their own compiled functions.

A row costs one call, not one call per key shown: the source is generated once per
plan and selection (``Plan.renderers``). Everything put into the source is a GraphQL
name (aliases and field names, which the parser restricts to ``[_A-Za-z][_0-9A-Za-z]*``)
or a column of the shape registry, written with ``repr``; values reach the function
only through its row and the names it is given.
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Callable, Sequence
from typing import Any

from spm_api.graphql.planned import shapes
from spm_api.graphql.planned.plan import Selected

#: A compiled selection: the run it belongs to and one row, to the answer's object.
Renderer = Callable[[Any, dict[Any, Any]], dict[str, Any]]
Renderers = dict[tuple[str, int], Renderer]


def global_id(type_name: str, pk: int) -> str:
    """The Relay id, as ``strawberry.relay.utils.to_base64`` writes it."""
    return b64encode(f"{type_name}:{pk}".encode()).decode()


def renderer(type_name: str, below: Sequence[Selected], cache: Renderers) -> Renderer:
    """The function that writes ``below`` of a ``type_name`` row, compiled on first use."""
    key = (type_name, id(below))
    found = cache.get(key)
    if found is None:
        found = cache[key] = _compile(type_name, below, cache)
    return found


def _compile(type_name: str, below: Sequence[Selected], cache: Renderers) -> Renderer:
    _, fields = shapes.TYPES[type_name]
    names: dict[str, Any] = {"global_id": global_id}
    values: list[str] = []

    def given(value: Any) -> str:
        """A value the source refers to by a name of its own."""
        name = f"v{len(names)}"
        names[name] = value
        return name

    for part in below:
        shape = fields.get(part.name)
        values.append(f"{part.key!r}: {_expression(type_name, shape, part, given, cache)}")
    source = "def render(run, row):\n    return {" + ", ".join(values) + "}\n"
    exec(compile(source, f"<render {type_name}>", "exec"), names)
    rendered: Renderer = names["render"]
    return rendered


def _expression(type_name: str, shape: shapes.Shape | None, part: Selected,
                given: Callable[[Any], str], cache: Renderers) -> str:
    if shape is None:  # __typename
        return repr(type_name)
    if isinstance(shape, shapes.Column):
        value = f"row[{shape.column!r}]"
        if shape.encode is shapes.plain:
            return value
        if shape.encode is shapes.enum_name:
            return f"(None if (v := {value}) is None else v._name_)"
        if shape.encode is shapes.iso:
            return f"(None if (v := {value}) is None else v.isoformat())"
        return f"{given(shape.encode)}({value})"
    if isinstance(shape, shapes.Derived):
        return f"{given(shape.compute)}(row[{shape.column!r}])"
    if isinstance(shape, shapes.GlobalId):
        return f"global_id({type_name!r}, row['id'])"
    if isinstance(shape, shapes.MoneyOf):
        return f"run.money(row[{shape.column!r}], {given(part)})"
    if isinstance(shape, shapes.One):
        inner = given(renderer(shape.target, part.below, cache))
        return f"(None if (o := row[{('one', part.key)!r}]) is None else {inner}(run, o))"
    if isinstance(shape, shapes.Many):
        inner = given(renderer(shape.target, part.below, cache))
        return f"[{inner}(run, child) for child in row[{('many', part.key)!r}]]"
    return f"run.approval(row, {given(part)})"
