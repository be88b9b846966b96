"""Reading the audit trail: admins only, a keyset page at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.relay.utils import from_base64, to_base64
from strawberry.types import Info

from spm_api.domain import audit
from spm_api.graphql.audit.types import (
    ENTITY_TYPES,
    AuditEventConnection,
    AuditEventEdge,
    AuditEventType,
)
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.ids import node_pk, parse_global_id, row_id
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.reading import read
from spm_api.vocabulary.audit import AuditEntity
from spm_api.vocabulary.errors import ErrorCode, fail

#: The prefix inside an audit cursor (cursors are opaque to clients).
CURSOR_PREFIX = "audit"


@strawberry.input(name="AuditEventFilter", description="Which audit events; every field "
                  "left out matches all.")
class AuditEventFilter:
    entity_kind: AuditEntity | None = strawberry.field(
        default=None, description="Only events about this kind of thing.")
    entity_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only events about this thing: its global id, as "
                                  "`AuditEvent.entityId` shows it.")
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only what this person did.")
    since: datetime | None = strawberry.field(
        default=None, name="from", description="Only events at or after this instant.")
    until: datetime | None = strawberry.field(
        default=None, name="to", description="Only events before this instant.")


def _domain_filter(given: AuditEventFilter | None) -> audit.AuditFilter:
    if given is None:
        return audit.AuditFilter()
    kinds = None if given.entity_kind is None else frozenset({given.entity_kind})
    entity_id = None
    if given.entity_id is not None:
        global_id = parse_global_id(given.entity_id)
        named = frozenset(kind for kind, type_name in ENTITY_TYPES.items()
                          if global_id is not None and type_name == global_id.type_name)
        entity_id = None if global_id is None else row_id(global_id.node_id)
        if not named or entity_id is None:
            raise fail(ErrorCode.VALIDATION, "entityId is not the id of anything audited",
                       "filter.entityId")
        kinds = named if kinds is None else kinds & named
    person_id = (None if given.person_id is None
                 else node_pk(given.person_id, "Person", "filter.personId"))
    return audit.AuditFilter(entity_kinds=kinds, entity_id=entity_id, person_id=person_id,
                             since=given.since, until=given.until)


def _after(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        prefix, raw = from_base64(cursor)
    except ValueError:
        prefix, raw = "", ""
    found = row_id(raw) if prefix == CURSOR_PREFIX else None
    if found is None:
        raise GraphQLError("after is not a cursor of the audit trail",
                           extensions={"code": "BAD_USER_INPUT"})
    return found


@strawberry.type
class AuditQuery:
    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="The organisation's audit trail, newest first: every "
                                  "recorded change (see docs/audit.md). Admins only.")
    async def audit_events(
        self, info: Info[Context, None],
        filter: Annotated[AuditEventFilter | None, strawberry.argument(
            description="Which events.")] = None,
        first: Annotated[int, strawberry.argument(
            description="How many, at most the server's page size limit.")] = 20,
        after: Annotated[str | None, strawberry.argument(
            description="The cursor of the last event of the previous page.")] = None,
    ) -> AuditEventConnection:
        limit = info.schema.config.relay_max_results
        if not 0 <= first <= limit:
            raise GraphQLError(f"first must be between 0 and {limit}",
                               extensions={"code": "BAD_USER_INPUT"})
        before_id = _after(after)
        rows, more = await read(info, lambda session, actor: audit.audit_events(
            session, actor, _domain_filter(filter), first=first, after=before_id))
        edges = [AuditEventEdge(cursor=to_base64(CURSOR_PREFIX, row.id),
                                node=AuditEventType(row=row)) for row in rows]
        return AuditEventConnection(edges=edges, page_info=relay.PageInfo(
            has_next_page=more, has_previous_page=before_id is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None))
