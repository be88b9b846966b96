"""Which rows of an organisation a batch read asks for: an ``IN`` list for a page's
worth of ids, the whole organisation (filtered afterwards) beyond that, because
compiling and binding thousands of parameters costs more than reading a few rows too
many."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import true
from sqlalchemy.sql.elements import ColumnElement

#: Up to this many ids are sent as an ``IN`` list.
MAX_LISTED = 200


def among(column: Any, ids: Collection[int]) -> ColumnElement[bool]:
    """``column IN ids``, or no condition when there are too many to list (the caller
    keeps only the ids it asked for)."""
    if len(ids) > MAX_LISTED:
        return true()
    condition: ColumnElement[bool] = column.in_(set(ids))
    return condition
