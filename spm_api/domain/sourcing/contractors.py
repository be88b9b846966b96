"""The organisation's contractor registry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor, Permission
from spm_api.domain.reads import load_owned
from spm_api.models import Contractor
from spm_api.plugins.contracts import VALIDATE_CONTRACTOR_SETTINGS
from spm_api.plugins.host import PluginHost
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
    if settings is not None:
        if not isinstance(settings, Mapping):
            raise fail(ErrorCode.VALIDATION, "settings must be a JSON object", "settings")
        plugins.check(VALIDATE_CONTRACTOR_SETTINGS, contractor.integration, settings)
        contractor.settings = dict(settings)
    if contact is not None:
        contractor.contact = optional_text(contact, "contact", 2000)
    await session.flush()
    return contractor


async def contractors_of(session: AsyncSession, organisation_id: int) -> list[Contractor]:
    """The organisation's contractor registry by name."""
    return list(await session.scalars(
        select(Contractor).where(Contractor.organisation_id == organisation_id)
        .order_by(Contractor.name)))
