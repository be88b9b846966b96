"""API tokens: issued once in clear, stored only as a SHA-256 hash; authentication.

Every request reads the token's row (and its person's) afresh: nothing about a token is
remembered between requests, so a revocation, an expiry, a rotation or a deactivation
applies to the very next request on every process."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import UTCDateTime, utcnow
from spm_api.domain.actor import Actor
from spm_api.models import ApiToken, Organisation, Person, PersonRole
from spm_api.vocabulary.enums import Role

TOKEN_PREFIX = "spm_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret() -> str:
    """A fresh token in clear: the prefix and 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _authenticates(known: ColumnElement[bool]) -> ColumnElement[bool]:
    """The condition, on a statement joining ``ApiToken`` and ``Person``, under which a
    ``known`` token stands for its person at the instant ``now`` (a parameter): not
    revoked, not expired, and its person not deactivated."""
    return and_(known, ApiToken.revoked_at.is_(None),
                or_(ApiToken.expires_at.is_(None),
                    ApiToken.expires_at > bindparam("now", type_=UTCDateTime())),
                Person.deactivated_at.is_(None))


# One statement object each, for every token (hash and instant are parameters):
# SQLAlchemy works out their cache keys once, not per request.
_ACTOR = (
    select(Person.id, Person.organisation_id, PersonRole.role)
    .join(ApiToken, ApiToken.person_id == Person.id)
    .outerjoin(PersonRole, PersonRole.person_id == Person.id)
    .where(_authenticates(ApiToken.token_hash == bindparam("token_hash")))
)
_READER = (
    select(Person.id, Person.organisation_id, PersonRole.role, Organisation.currency)
    .join(ApiToken, ApiToken.person_id == Person.id)
    .join(Organisation, Organisation.id == Person.organisation_id)
    .outerjoin(PersonRole, PersonRole.person_id == Person.id)
    .where(_authenticates(ApiToken.token_hash == bindparam("token_hash")))
)
_ACTORS = (
    select(ApiToken.token_hash, Person.id, Person.organisation_id, PersonRole.role)
    .join(Person, ApiToken.person_id == Person.id)
    .outerjoin(PersonRole, PersonRole.person_id == Person.id)
    .where(_authenticates(ApiToken.token_hash.in_(bindparam("token_hashes",
                                                            expanding=True))))
)


async def issue_token(session: AsyncSession, person_id: int, label: str = "") -> str:
    """Create a token for ``person_id`` and return it in clear; it cannot be read again."""
    token = new_secret()
    session.add(ApiToken(person_id=person_id, token_hash=hash_token(token), label=label))
    await session.flush()
    return token


async def revoke_tokens(session: AsyncSession, person_ids: list[int], label: str) -> int:
    """Revoke the live tokens labelled ``label`` of these people; returns how many."""
    result = await session.execute(
        update(ApiToken)
        .where(ApiToken.person_id.in_(person_ids), ApiToken.label == label,
               ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def authenticate(session: AsyncSession, token: str) -> Actor | None:
    """The actor a bearer token stands for now, or None when it is unknown, revoked or
    expired, or its person deactivated."""
    rows = (await session.execute(
        _ACTOR, {"token_hash": hash_token(token), "now": utcnow()})).all()
    if not rows:
        return None
    person_id, organisation_id, _ = rows[0]
    roles = frozenset(row.role for row in rows if row.role is not None)
    return Actor(person_id=person_id, organisation_id=organisation_id, roles=roles)


async def authenticate_reader(session: AsyncSession, token: str
                              ) -> tuple[Actor, str] | None:
    """``authenticate``, with the currency of the actor's organisation read in the same
    statement: what a planned read needs before its first row."""
    connection = await session.connection()  # Core: plain columns need no ORM set-up
    rows = (await connection.execute(
        _READER, {"token_hash": hash_token(token), "now": utcnow()})).all()
    if not rows:
        return None
    person_id, organisation_id, _, currency = rows[0]
    roles = frozenset(row.role for row in rows if row.role is not None)
    return Actor(person_id=person_id, organisation_id=organisation_id, roles=roles), currency


async def authenticate_all(session: AsyncSession, tokens: Iterable[str]
                           ) -> dict[str, Actor]:
    """The actor of each token that still authenticates, in one statement: the check a
    group of subscribers makes before every event they share."""
    by_hash = {hash_token(token): token for token in tokens}
    if not by_hash:
        return {}
    rows = (await session.execute(
        _ACTORS, {"token_hashes": list(by_hash), "now": utcnow()})).all()
    people: dict[str, tuple[int, int, set[Role]]] = {}
    for token_hash, person_id, organisation_id, role in rows:
        _, _, roles = people.setdefault(token_hash, (person_id, organisation_id, set()))
        if role is not None:
            roles.add(role)
    return {by_hash[token_hash]: Actor(person_id=person_id, organisation_id=organisation_id,
                                       roles=frozenset(roles))
            for token_hash, (person_id, organisation_id, roles) in people.items()}
