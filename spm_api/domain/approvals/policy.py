"""What an admin configures: which approval rules apply, and each plugin's settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import utcnow
from spm_api.domain import audit
from spm_api.domain.actor import Actor, Permission
from spm_api.models import ApprovalRuleChoice, PluginSettings
from spm_api.plugins.contracts import APPROVAL_RULES
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.audit import AuditAction, AuditEntity
from spm_api.vocabulary.errors import ErrorCode, fail


async def choose_rules(session: AsyncSession, actor: Actor, plugins: PluginHost,
                       rules: Sequence[str]) -> tuple[str, ...]:
    """Replace the organisation's approval rules; all of them must approve from now on,
    including in rounds already open."""
    actor.require(Permission.ADMINISTER)
    chosen = tuple(dict.fromkeys(rule.strip() for rule in rules))
    if not chosen:
        raise fail(ErrorCode.VALIDATION, "choose at least one approval rule", "rules")
    installed = plugins.registry(APPROVAL_RULES)
    unknown = [rule for rule in chosen if rule not in installed]
    if unknown:
        available = ", ".join(sorted(installed))
        raise fail(ErrorCode.VALIDATION,
                   f"no approval rule named {', '.join(map(repr, unknown))}; "
                   f"installed: {available}", "rules")
    before = sorted(await session.scalars(select(ApprovalRuleChoice.rule).where(
        ApprovalRuleChoice.organisation_id == actor.organisation_id)))
    audit.record_changes(session, actor, AuditEntity.APPROVAL_RULES, actor.organisation_id,
                         {"rules": before}, {"rules": sorted(chosen)})
    await session.execute(delete(ApprovalRuleChoice).where(
        ApprovalRuleChoice.organisation_id == actor.organisation_id))
    session.add_all(ApprovalRuleChoice(organisation_id=actor.organisation_id, rule=rule)
                    for rule in chosen)
    await session.flush()
    return tuple(sorted(chosen))


async def configure_plugin(session: AsyncSession, actor: Actor, plugins: PluginHost,
                           plugin: str, settings: Mapping[str, Any]) -> PluginSettings:
    """Store the organisation's settings for one plugin once the plugin accepts them."""
    actor.require(Permission.ADMINISTER)
    if plugin not in plugins.plugin_names():
        raise fail(ErrorCode.NOT_FOUND, f"no plugin named {plugin!r} is loaded", "plugin")
    if not isinstance(settings, Mapping):
        raise fail(ErrorCode.VALIDATION, "settings must be a JSON object", "settings")
    plugins.validate_settings(plugin, settings)
    row = await session.scalar(select(PluginSettings).where(
        PluginSettings.organisation_id == actor.organisation_id,
        PluginSettings.plugin == plugin))
    before = None if row is None else dict(row.settings)
    if row is None:
        row = PluginSettings(organisation_id=actor.organisation_id, plugin=plugin)
        session.add(row)
    row.settings = dict(settings)
    row.updated_at = utcnow()
    await session.flush()
    after = audit.plain(row.settings)
    if before is None:
        audit.record(session, actor, AuditEntity.PLUGIN_SETTINGS, actor.organisation_id,
                     AuditAction.CREATED, after={"settings": audit.masked(after)}, via=plugin)
    else:
        audit.record_changes(session, actor, AuditEntity.PLUGIN_SETTINGS,
                             actor.organisation_id, {"settings": audit.plain(before)},
                             {"settings": after}, via=plugin, mask=audit.masked)
    return row
