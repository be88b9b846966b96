"""Text no database can store: PostgreSQL refuses a NUL character in any text value, so a
request carrying one, in its document's strings or in its variables, is refused before
any work with ``BAD_USER_INPUT`` instead of failing deep inside a write."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

NUL = "\x00"


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def nul_refusal(query: str | None, variables: dict[str, Any] | None) -> GraphQLError | None:
    """The refusal of a request whose text holds a NUL character, or None."""
    if (query is not None and NUL in query) or _holds_nul(variables):
        return GraphQLError("text may not contain NUL characters (U+0000)",
                            extensions={"code": "BAD_USER_INPUT"})
    return None
