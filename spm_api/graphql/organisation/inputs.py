"""Organisation settings input."""

from __future__ import annotations

import strawberry


@strawberry.input
class UpdateOrganisationSettingsInput:
    currency: str | None = strawberry.field(default=None, description="ISO 4217 code.")
    fiscal_year_start_month: int | None = strawberry.field(
        default=None, description="1 for January ... 12 for December.")
