"""Approval inputs: votes, affirmations, rules and plugin settings."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from spm_api.graphql.core.enums import Decision


@strawberry.input
class CastVoteInput:
    service_id: strawberry.ID
    decision: Decision
    comment: str = ""


@strawberry.input
class AffirmServiceInput:
    service_id: strawberry.ID
    comment: str = ""


@strawberry.input
class SetApprovalRulesInput:
    rules: list[str] = strawberry.field(
        description="Names of installed approval rules; all must approve, any one rejects.")


@strawberry.input
class ConfigurePluginInput:
    plugin: str = strawberry.field(description="The plugin's name, as `plugins` lists it.")
    settings: JSON = strawberry.field(description="A JSON object the plugin validates.")
