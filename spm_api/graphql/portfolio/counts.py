"""The portfolio overview: counts per section, stage and investment category."""

from __future__ import annotations

import strawberry

from spm_api.domain.reads import PortfolioCounts
from spm_api.graphql.core.enums import InvestmentCategory, Section, Stage


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
