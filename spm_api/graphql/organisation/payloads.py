"""Organisation settings payload."""

from __future__ import annotations

import strawberry

from spm_api.graphql.core.errors import UserError
from spm_api.graphql.portfolio.types import OrganisationNode


@strawberry.type
class OrganisationPayload:
    organisation: OrganisationNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
