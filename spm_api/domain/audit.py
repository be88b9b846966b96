"""The audit trail: recording each change in the change's own transaction, and reading
the trail (admins only).

Domain commands call ``record`` (or ``record_changes``) once they know what changed;
the event is added to the session, so it is flushed and committed with the change, or
rolled back with it. Who acted is the command's ``Actor``; their name is read by the
event's INSERT itself (a scalar subquery), so recording costs that INSERT and no read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor, Permission
from spm_api.models import AuditEvent, Person
from spm_api.vocabulary.audit import MASKED, SECRET_NAME, AuditAction, AuditEntity
from spm_api.vocabulary.errors import ErrorCode, fail

#: The name recorded for the ``spm-api`` operator (``Actor.operator``), who is no person.
OPERATOR_NAME = "spm-api operator"

Fields = dict[str, Any]


def plain(value: Any) -> Any:
    """``value`` as JSON: exact decimals as strings, times in ISO 8601, enums by value."""
    if isinstance(value, Decimal):  # one spelling per number: 120.00 and 120.0000 alike
        return format(value.normalize(), "f")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [plain(item) for item in value]
        return sorted(items) if isinstance(value, (set, frozenset)) else items
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def fields_of(row: object, names: Iterable[str]) -> Fields:
    """The named attributes of ``row`` as JSON, keyed as the API names them (camelCase)."""
    return {_camel(name): plain(getattr(row, name)) for name in names}


def masked(settings: Any) -> Any:
    """Settings with whatever a credential's name (``SECRET_NAME``) holds replaced by
    ``MASKED``, a list or an object under such a name too, and objects and lists under
    other names searched alike: what the trail keeps of contractor and plugin settings."""
    if isinstance(settings, list):
        return [masked(item) for item in settings]
    if not isinstance(settings, Mapping):
        return settings
    return {name: (MASKED if SECRET_NAME.search(str(name)) and value is not None
                   else masked(value))
            for name, value in settings.items()}


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[Fields, Fields]:
    """Only what changed: the fields (and, within objects, the keys) whose values
    differ, as they were and as they became; a key absent on one side is left out of
    that side."""
    was: Fields = {}
    became: Fields = {}
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        if old == new and (key in before) == (key in after):
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            was[key], became[key] = diff(old, new)
            continue
        if key in before:
            was[key] = old
        if key in after:
            became[key] = new
    return was, became


def record(session: AsyncSession, actor: Actor, entity: AuditEntity, entity_id: int | None,
           action: AuditAction, *, before: Mapping[str, Any] | None = None,
           after: Mapping[str, Any] | None = None, via: str | None = None) -> AuditEvent:
    """Add one event to the session's transaction: written with the change, or not at
    all. ``before``/``after`` must already be JSON with secrets masked."""
    person_id = actor.person_id or None
    name: Any = (select(Person.name).where(Person.id == person_id).scalar_subquery()
                 if person_id is not None else OPERATOR_NAME)
    event = AuditEvent(organisation_id=actor.organisation_id, person_id=person_id,
                       person_name=name, entity_kind=entity, entity_id=entity_id,
                       action=action, before=None if before is None else dict(before),
                       after=None if after is None else dict(after), via=via)
    session.add(event)
    return event


def record_changes(session: AsyncSession, actor: Actor, entity: AuditEntity, entity_id: int,
                   before: Mapping[str, Any], after: Mapping[str, Any], *,
                   action: AuditAction = AuditAction.UPDATED, via: str | None = None,
                   mask: Callable[[Fields], Fields] | None = None) -> bool:
    """Record an update as the fields that changed (compared in clear, then ``mask``ed);
    nothing is recorded when nothing changed. Returns whether an event was added."""
    was, became = diff(before, after)
    if not was and not became:
        return False
    if mask is not None:
        was, became = mask(was), mask(became)
    record(session, actor, entity, entity_id, action, before=was, after=became, via=via)
    return True


# Reading the trail


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which events: every field left None matches all."""

    #: Events about any of these kinds of thing.
    entity_kinds: frozenset[AuditEntity] | None = None
    entity_id: int | None = None
    person_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


async def audit_events(session: AsyncSession, actor: Actor, where: AuditFilter, *,
                       first: int, after: int | None = None) -> tuple[list[AuditEvent], bool]:
    """A page of the organisation's trail, newest first: the ``first`` events older
    than the event ``after`` (a keyset on the id, so events written while a client
    pages arrive at the front and never shift the next page), and whether more follow.
    Admins only."""
    actor.require(Permission.ADMINISTER)
    if first < 0:
        raise fail(ErrorCode.VALIDATION, "first must not be negative", "first")
    for given, field in ((where.since, "filter.from"), (where.until, "filter.to")):
        if given is not None and given.tzinfo is None:
            raise fail(ErrorCode.VALIDATION, "give the time with its time zone "
                       "(e.g. 2027-01-31T00:00:00Z)", field)
    if where.since is not None and where.until is not None and where.until < where.since:
        raise fail(ErrorCode.VALIDATION, "to is before from", "filter")
    query = select(AuditEvent).where(AuditEvent.organisation_id == actor.organisation_id)
    if where.entity_kinds is not None:
        query = query.where(AuditEvent.entity_kind.in_(sorted(where.entity_kinds)))
    if where.entity_id is not None:
        query = query.where(AuditEvent.entity_id == where.entity_id)
    if where.person_id is not None:
        query = query.where(AuditEvent.person_id == where.person_id)
    if where.since is not None:
        query = query.where(AuditEvent.at >= where.since)
    if where.until is not None:
        query = query.where(AuditEvent.at < where.until)
    if after is not None:
        query = query.where(AuditEvent.id < after)
    rows = list(await session.scalars(query.order_by(AuditEvent.id.desc()).limit(first + 1)))
    return rows[:first], len(rows) > first
