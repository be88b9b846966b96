"""Relay global ids and the row ids inside them: opaque to clients, checked here."""

from __future__ import annotations

from typing import Any

from strawberry import relay
from strawberry.types.base import StrawberryObjectDefinition

from spm_api.vocabulary.errors import ErrorCode, fail


def parse_global_id(raw: str) -> relay.GlobalID | None:
    """A Relay global id, or None when ``raw`` is not one (ids are opaque to clients)."""
    try:
        return relay.GlobalID.from_id(raw)
    except ValueError:  # GlobalIDValueError and base64/unicode errors alike
        return None


def names_an_object_node(global_id: relay.GlobalID, info: Any) -> bool:
    """Whether the id's type is an object type implementing Node: an interface (Node
    itself), a plain object type or an unknown name can be written in an id, but name
    no object."""
    definition = info.schema.get_type_by_name(global_id.type_name)
    if not isinstance(definition, StrawberryObjectDefinition) or definition.is_interface:
        return False
    origin = definition.origin
    return isinstance(origin, type) and issubclass(origin, relay.Node)


def database_id(raw: str, expected_type: str) -> int | None:
    """The row id inside a global id of ``expected_type``, or None for any other id."""
    global_id = parse_global_id(raw)
    if global_id is None or global_id.type_name != expected_type:
        return None
    return row_id(global_id.node_id)


#: The largest row id (PostgreSQL's INTEGER); a larger number names no row.
MAX_ROW_ID = 2**31 - 1


def row_id(text: str) -> int | None:
    """A row id written in ASCII digits within range, or None."""
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_ROW_ID:
        return None
    return int(text)


def node_pk(raw: str, expected_type: str, field: str) -> int:
    """The row id inside a global id, refusing ids of another type as NOT_FOUND."""
    found = database_id(raw, expected_type)
    if found is None:
        raise fail(ErrorCode.NOT_FOUND, f"{field} is not the id of a {expected_type}", field)
    return found
