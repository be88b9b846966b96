"""Domain enums exposed to GraphQL unchanged: no mapping code between the layers."""

from __future__ import annotations

import strawberry

from spm_api.domain import enums, reads, stages
from spm_api.domain.errors import ErrorCode

Stage = strawberry.enum(stages.Stage, description="Lifecycle stage of a service.")
Section = strawberry.enum(
    stages.Section,
    description="Portfolio section, derived from the stage: PIPELINE up to CHARTERED, "
    "CATALOGUE for LIVE, RETIRED for RETIRED and REJECTED.",
)
Role = strawberry.enum(enums.Role)
InvestmentCategory = strawberry.enum(enums.InvestmentCategory)
Necessity = strawberry.enum(enums.Necessity)
Position = strawberry.enum(enums.Position)
ServiceOrderField = strawberry.enum(reads.ServiceOrderField)
SortDirection = strawberry.enum(reads.SortDirection)
UserErrorCode = strawberry.enum(ErrorCode, name="UserErrorCode")
