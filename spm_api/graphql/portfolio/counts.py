"""The portfolio overview: counts per section, stage and investment category."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from spm_api.domain.reads import PortfolioCounts
from spm_api.domain.stewardship import health
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.enums import InvestmentCategory, Section, Stage
from spm_api.graphql.core.reading import read

if TYPE_CHECKING:
    from spm_api.graphql.stewardship.types import HealthCount


@strawberry.type
class SectionCount:
    section: Section
    count: int


@strawberry.type
class StageCount:
    stage: Stage
    count: int


@strawberry.type
class InvestmentCategoryCount:
    investment_category: InvestmentCategory
    count: int


@strawberry.type
class Portfolio:
    total: int
    by_section: list[SectionCount]
    by_stage: list[StageCount]
    by_investment_category: list[InvestmentCategoryCount]

    @strawberry.field(description="Live services per health (every health listed).")
    async def by_health(self, info: Info[Context, None]) -> list[
            Annotated[HealthCount, strawberry.lazy("spm_api.graphql.stewardship.types")]]:
        from spm_api.graphql.stewardship.types import HealthCount

        plugins = info.context.plugins
        counts = await read(info, lambda session, actor: health.health_counts(
            session, plugins, actor))
        return [HealthCount(health=status, count=count) for status, count in counts.items()]

    @classmethod
    def from_counts(cls, counts: PortfolioCounts) -> Portfolio:
        return cls(
            total=counts.total,
            by_section=[SectionCount(section=k, count=v) for k, v in counts.by_section.items()],
            by_stage=[StageCount(stage=k, count=v) for k, v in counts.by_stage.items()],
            by_investment_category=[
                InvestmentCategoryCount(investment_category=k, count=v)
                for k, v in counts.by_investment_category.items()
            ],
        )
