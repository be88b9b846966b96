"""The organisation's contractor registry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db import secrets
from spm_api.domain import audit
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.reads import load_owned
from spm_api.models import Contractor
from spm_api.plugins.contracts import VALIDATE_CONTRACTOR_SETTINGS
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.audit import SECRET_NAME, AuditAction, AuditEntity
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.validation import optional_text, required_text


async def register_contractor(session: AsyncSession, actor: Actor, plugins: PluginHost, *,
                              name: str, contact: str, integration: str,
                              settings: Mapping[str, Any]) -> Contractor:
    """Add a contractor, with the integration that reaches it and that integration's
    settings for it (checked by the integration)."""
    actor.require(Permission.MANAGE_SOURCING)
    name = required_text(name, "name", 200)
    if not isinstance(settings, Mapping):
        raise fail(ErrorCode.VALIDATION, "settings must be a JSON object", "settings")
    plugins.check(VALIDATE_CONTRACTOR_SETTINGS, integration.strip(), settings)
    taken = await session.scalar(select(Contractor.id).where(
        Contractor.organisation_id == actor.organisation_id, Contractor.name == name))
    if taken is not None:
        raise fail(ErrorCode.CONFLICT, f"a contractor named {name!r} already exists", "name")
    contractor = Contractor(organisation_id=actor.organisation_id, name=name,
                            contact=optional_text(contact, "contact", 2000),
                            integration=integration.strip(), settings=dict(settings))
    session.add(contractor)
    await session.flush()
    audit.record(session, actor, AuditEntity.CONTRACTOR, contractor.id, AuditAction.CREATED,
                 after=audit.masked({**audit.fields_of(contractor, ("name", "contact")),
                                     "settings": audit.plain(contractor.settings)}),
                 via=contractor.integration)
    return contractor




async def update_contractor(session: AsyncSession, actor: Actor, plugins: PluginHost,
                            contractor_id: int, *, contact: str | None = None,
                            settings: Mapping[str, Any] | None = None) -> Contractor:
    """Change a contractor's contact or its integration settings (a rotated token, a
    new address); new settings are checked by the integration, and apply from the next
    delivery or quote on."""
    actor.require(Permission.MANAGE_SOURCING)
    contractor = await load_owned(session, Contractor, actor.organisation_id, contractor_id,
                                  "contractorId")
    before = {"contact": contractor.contact, "settings": audit.plain(contractor.settings)}
    if settings is not None:
        if not isinstance(settings, Mapping):
            raise fail(ErrorCode.VALIDATION, "settings must be a JSON object", "settings")
        plugins.check(VALIDATE_CONTRACTOR_SETTINGS, contractor.integration, settings)
        contractor.settings = dict(settings)
    if contact is not None:
        contractor.contact = optional_text(contact, "contact", 2000)
    audit.record_changes(session, actor, AuditEntity.CONTRACTOR, contractor.id, before,
                         {"contact": contractor.contact,
                          "settings": audit.plain(contractor.settings)},
                         via=contractor.integration, mask=audit.masked)
    await session.flush()
    return contractor


async def contractors_of(session: AsyncSession, organisation_id: int) -> list[Contractor]:
    """The organisation's contractor registry by name."""
    return list(await session.scalars(
        select(Contractor).where(Contractor.organisation_id == organisation_id)
        .order_by(Contractor.name)))


#: How much of a credential is shown: its last characters, when it is long enough that
#: they give nothing away.
SHOWN_TAIL = 4


def shown_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as a query shows them: every credential (by its name) masked but for its
    last few characters, so people can tell which one is set; nested objects alike."""
    shown: dict[str, Any] = {}
    for name, value in settings.items():
        if isinstance(value, Mapping):
            shown[name] = shown_settings(value)
        elif SECRET_NAME.search(name) and value is not None:
            text = str(value)
            shown[name] = "****" + (text[-SHOWN_TAIL:] if len(text) >= 16 else "")
        else:
            shown[name] = value
    return shown


async def reseal_contractor_settings(session: AsyncSession) -> int:
    """Seal every contractor's settings again under the newest key of
    ``SPM_SECRET_KEYS`` (after a new key is put first); returns how many. Once done,
    the older keys can be dropped."""
    contractors = list(await session.scalars(select(Contractor).order_by(Contractor.id)))
    for contractor in contractors:
        contractor.sealed_settings = secrets.reseal(contractor.sealed_settings)
    await session.flush()
    return len(contractors)
