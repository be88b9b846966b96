"""Fan-out: each event is read, executed and serialised once per *group* of subscribers
that would see the same payload, and the same bytes are queued on every socket of the
group.

A group is one operation document with the same variables, run for one visibility: the
organisation and the roles (every subscriber of a group has exactly the same
permissions, so no field can show one member what another may not see). Before each
event the group checks every member's token in one statement: a revoked token gets
``UNAUTHENTICATED`` and leaves, a member whose roles changed is closed with 4410 and
subscribes again (with ``after``, nothing is missed).

Subscriptions that resume (a non-null ``after``) are not shared: each catches up from
the history on its own, so a subscriber that fell behind never slows a group down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    parse,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError

from spm_api.domain.actor import Actor
from spm_api.domain.session import Session
from spm_api.domain.tokens import authenticate_all
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.subscriptions import unauthenticated
from spm_api.observability.metrics import EVENTS_DELIVERED, FANOUT_SECONDS, SUBSCRIPTIONS
from spm_api.vocabulary.enums import Role

if TYPE_CHECKING:
    from strawberry.schema import BaseSchema

    from spm_api.graphql.core.outbox import Outbox

logger = logging.getLogger("spm_api.realtime")
SHARED_DELIVERED = EVENTS_DELIVERED.labels("shared")

#: Close code for a member whose roles changed: it subscribes again under its new ones.
ROLES_CHANGED = 4410


def encode(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class GroupKey:
    """What makes two subscribers' payloads the same."""

    organisation_id: int
    roles: frozenset[Role]
    query: str
    operation_name: str | None
    variables: str


def visibility_of(actor: Actor) -> tuple[int, frozenset[Role]]:
    return actor.organisation_id, actor.roles


@lru_cache(maxsize=256)
def _parsed(query: str) -> DocumentNode | None:
    try:
        return parse(query)
    except GraphQLSyntaxError:
        return None


def shared_key(actor: Actor, query: str, variables: dict[str, Any] | None,
               operation_name: str | None) -> GroupKey | None:
    """The group this subscription belongs to, or None when it runs on its own: not a
    subscription, not a document we can read (GraphQL reports why), or resuming."""
    document = _parsed(query)
    if document is None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation is not OperationType.SUBSCRIPTION:
        return None
    values = variables or {}
    for selection in operations[0].selection_set.selections:
        for argument in getattr(selection, "arguments", ()) or ():
            if argument.name.value != "after":
                continue
            value = argument.value
            if isinstance(value, VariableNode):
                if values.get(value.name.value) is not None:
                    return None
            elif value.kind != "null_value":
                return None
    try:
        canonical = encode({k: v for k, v in sorted(values.items())})
    except (TypeError, ValueError):
        return None
    organisation_id, roles = visibility_of(actor)
    return GroupKey(organisation_id, roles, query, operation_name, canonical)


class Member:
    """One operation of one connection in a group: what it needs to be sent frames."""

    __slots__ = ("operation_id", "outbox", "prefix", "token")

    def __init__(self, outbox: Outbox, operation_id: str, token: str) -> None:
        self.outbox = outbox
        self.operation_id = operation_id
        self.token = token
        self.prefix = '{"id":' + encode(operation_id) + ',"type":"next","payload":'

    def next(self, payload: str) -> None:
        self.outbox.offer(self.prefix + payload + "}")

    def final(self, kind: str, payload: object = None) -> None:
        message: dict[str, object] = {"id": self.operation_id, "type": kind}
        if payload is not None:
            message["payload"] = payload
        self.outbox.offer(encode(message))
        self.outbox.forget_operation(self.operation_id)


@dataclass(eq=False)
class GroupContext(Context):
    """The context a group's one execution runs in: each event scope checks every
    member's token, and reads as their shared visibility."""

    group: Group | None = None

    async def actor_for_event(self, session: Session) -> Actor | None:
        assert self.group is not None
        return await self.group.check_members(session)


class Group:
    def __init__(self, hub: FanOut, key: GroupKey, template: Context, actor: Actor) -> None:
        self.hub = hub
        self.key = key
        self.members: dict[tuple[int, str], Member] = {}
        self.context = GroupContext(template.session_factory, template.plugins, template.bus,
                                    actor=actor, event_plans=template.event_plans)
        self.context.group = self
        self.task: asyncio.Task[None] | None = None

    async def check_members(self, session: Session) -> Actor | None:
        """Every member's token checked in one statement; returns the shared actor, or
        None once nobody is left."""
        actors = await authenticate_all(session, {m.token for m in self.members.values()})
        shared: Actor | None = None
        wanted = (self.key.organisation_id, self.key.roles)
        for slot, member in list(self.members.items()):
            actor = actors.get(member.token)
            if actor is not None and visibility_of(actor) == wanted:
                shared = shared or actor
                continue
            self.hub.release(self, slot, member)
            if actor is None:
                member.final("error", [unauthenticated().formatted])
            else:
                member.outbox.close(ROLES_CHANGED, "Roles changed: subscribe again")
        return shared

    async def run(self) -> None:
        """The one execution of the group's operation; every result is serialised once
        and queued for each member."""
        try:
            stream = await self.hub.schema.stream(
                self.key.query, variable_values=json.loads(self.key.variables),
                context_value=self.context, operation_name=self.key.operation_name)
            async with contextlib.aclosing(stream):
                async for result in stream:
                    if isinstance(result, PreExecutionError):
                        self._end("error", [e.formatted for e in result.errors or []])
                        return
                    if not isinstance(result, ExecutionResult):
                        error = GraphQLError("Incremental delivery is not supported over "
                                             "graphql-transport-ws")
                        self._end("error", [error.formatted])
                        return
                    payload = encode(_payload_of(result))
                    members = list(self.members.values())
                    for member in members:
                        member.next(payload)
                    SHARED_DELIVERED.inc(len(members))
                    published, self.context.published_at = self.context.published_at, 0.0
                    if published:
                        FANOUT_SECONDS.observe(max(time.time() - published, 0.0))
            self._end("complete")
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("a shared subscription failed")
            self._end("error", [GraphQLError("the subscription failed",
                                             extensions={"code": "INTERNAL_SERVER_ERROR"}
                                             ).formatted])
        finally:
            self.hub.forget(self)
            self.context.group = None

    def _end(self, kind: str, payload: object = None) -> None:
        for slot, member in list(self.members.items()):
            self.hub.release(self, slot, member)
            member.final(kind, payload)


def _payload_of(result: ExecutionResult) -> dict[str, object]:
    payload: dict[str, object] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return payload


@dataclass(eq=False)
class FanOut:
    """A process's groups and the counts its caps are checked against."""

    schema: BaseSchema
    max_connections: int
    max_subscriptions_per_organisation: int
    groups: dict[GroupKey, Group] = field(default_factory=dict)
    connections: int = 0
    subscriptions: Counter[int] = field(default_factory=Counter)

    def join(self, key: GroupKey, member: Member, template: Context, actor: Actor) -> Group:
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(self, key, template, actor)
            group.task = asyncio.get_running_loop().create_task(group.run())
        group.members[(id(member.outbox), member.operation_id)] = member
        self.subscriptions[key.organisation_id] += 1
        SUBSCRIPTIONS.inc()
        return group

    def leave(self, group: Group, member: Member) -> None:
        slot = (id(member.outbox), member.operation_id)
        if group.members.get(slot) is member:
            self.release(group, slot, member)

    def release(self, group: Group, slot: tuple[int, str], member: Member) -> None:
        """Take a member out; the last one out ends the group's execution."""
        if group.members.pop(slot, None) is None:
            return
        self.subscriptions[group.key.organisation_id] -= 1
        SUBSCRIPTIONS.dec()
        if not group.members:
            self.forget(group)
            task = group.task
            if task is not None and task is not asyncio.current_task():
                task.cancel()

    def forget(self, group: Group) -> None:
        if self.groups.get(group.key) is group:
            del self.groups[group.key]

    def count(self, organisation_id: int, delta: int) -> None:
        self.subscriptions[organisation_id] += delta
        SUBSCRIPTIONS.inc(delta)
