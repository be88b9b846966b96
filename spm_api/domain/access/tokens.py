"""API tokens as their owners and admins manage them: created with a name and an
optional expiry (the secret is returned once, only its hash is kept), listed as
metadata, rotated (a new secret; the old one stops authenticating) and revoked.

A person manages their own tokens; admins manage anyone's in their organisation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import utcnow
from spm_api.domain import audit
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.reads import Listing, load_owned
from spm_api.domain.tokens import hash_token, new_secret
from spm_api.models import ApiToken, Person
from spm_api.vocabulary.audit import MASKED, AuditAction, AuditEntity
from spm_api.vocabulary.enums import TokenStatus
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.validation import required_text


def status_of(token: ApiToken, now: datetime | None = None) -> TokenStatus:
    """Whether ``token`` authenticates now (its person's deactivation aside)."""
    if token.revoked_at is not None:
        return TokenStatus.REVOKED
    if token.expires_at is not None and token.expires_at <= (now or utcnow()):
        return TokenStatus.EXPIRED
    return TokenStatus.ACTIVE


def _may_manage(actor: Actor, person_id: int) -> None:
    if person_id != actor.person_id:
        actor.require(Permission.ADMINISTER)


async def create_token(session: AsyncSession, actor: Actor, *, person_id: int, name: str,
                       expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for the person (the actor themself unless an admin names another):
    the row and its secret in clear, which cannot be read again."""
    name = required_text(name, "name", 200)
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise fail(ErrorCode.VALIDATION, "give the expiry with its time zone "
                       "(e.g. 2027-01-31T00:00:00Z)", "expiresAt")
        if expires_at <= utcnow():
            raise fail(ErrorCode.VALIDATION, "the expiry must be in the future", "expiresAt")
    _may_manage(actor, person_id)
    person = await load_owned(session, Person, actor.organisation_id, person_id, "personId")
    if person.deactivated_at is not None:
        raise fail(ErrorCode.PERSON_DEACTIVATED, f"{person.email} is deactivated; reactivate "
                   "them before issuing a token", "personId")
    secret = new_secret()
    token = ApiToken(person_id=person.id, token_hash=hash_token(secret), label=name,
                     expires_at=expires_at)
    session.add(token)
    await session.flush()
    audit.record(session, actor, AuditEntity.API_TOKEN, token.id, AuditAction.CREATED,
                 after={"personId": person.id, "name": name,
                        "expiresAt": audit.plain(expires_at), "secret": MASKED})
    return token, secret


async def _managed(session: AsyncSession, actor: Actor, token_id: int) -> ApiToken:
    """The token with this id in the actor's organisation, locked, if the actor may
    manage it: NOT_FOUND for another organisation's, FORBIDDEN for a colleague's."""
    token = await session.scalar(
        select(ApiToken).join(Person, Person.id == ApiToken.person_id)
        .where(ApiToken.id == token_id, Person.organisation_id == actor.organisation_id)
        .with_for_update(of=ApiToken))
    if token is None:
        raise fail(ErrorCode.NOT_FOUND, "no such token", "tokenId")
    _may_manage(actor, token.person_id)
    return token


async def rotate_token(session: AsyncSession, actor: Actor, token_id: int
                       ) -> tuple[ApiToken, str]:
    """Give the token a new secret, returned in clear; the old secret is refused from
    the next request on. Name and expiry stay."""
    token = await _managed(session, actor, token_id)
    status = status_of(token)
    if status is TokenStatus.REVOKED:
        raise fail(ErrorCode.TOKEN_REVOKED, "a revoked token cannot be rotated; create a "
                   "new one", "tokenId")
    if status is TokenStatus.EXPIRED:
        raise fail(ErrorCode.TOKEN_EXPIRED, "an expired token cannot be rotated; create a "
                   "new one", "tokenId")
    secret = new_secret()
    before = {"secret": MASKED, "rotatedAt": audit.plain(token.rotated_at)}
    token.token_hash = hash_token(secret)
    token.rotated_at = utcnow()
    audit.record(session, actor, AuditEntity.API_TOKEN, token.id, AuditAction.ROTATED,
                 before=before,
                 after={"secret": MASKED, "rotatedAt": audit.plain(token.rotated_at)})
    await session.flush()
    return token, secret


async def revoke_token(session: AsyncSession, actor: Actor, token_id: int) -> ApiToken:
    """Refuse the token from the next request on, for good. Revoking again is no change."""
    token = await _managed(session, actor, token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, actor, AuditEntity.API_TOKEN, token.id, AuditAction.REVOKED,
                     before={"revokedAt": None},
                     after={"revokedAt": audit.plain(token.revoked_at)})
        await session.flush()
    return token


def tokens_of(actor: Actor, person_id: int | None = None) -> Listing[ApiToken]:
    """The tokens of a person (the actor's own by default), newest first, revoked and
    expired ones included: their metadata, never a secret."""
    person_id = actor.person_id if person_id is None else person_id
    _may_manage(actor, person_id)
    return Listing(
        select(ApiToken).join(Person, Person.id == ApiToken.person_id)
        .where(Person.organisation_id == actor.organisation_id,
               ApiToken.person_id == person_id)
        .order_by(ApiToken.id.desc()))


async def tokens_by_id(session: AsyncSession, actor: Actor, ids: Sequence[int]
                       ) -> list[ApiToken | None]:
    """Tokens by id, None for those the actor may not see (a colleague's unless the
    actor is an admin, another organisation's always)."""
    query = (select(ApiToken).join(Person, Person.id == ApiToken.person_id)
             .where(Person.organisation_id == actor.organisation_id,
                    ApiToken.id.in_(set(ids))))
    if not actor.can(Permission.ADMINISTER):
        query = query.where(ApiToken.person_id == actor.person_id)
    found = {token.id: token for token in await session.scalars(query)}
    return [found.get(key) for key in ids]
