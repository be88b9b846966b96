"""The batch reads behind the request's DataLoaders, by relation name.

Each takes ``(session=, organisation_id=, ids=)`` and answers one value per id, in the
order asked, with one statement per batch whatever the number of ids. Rows of another
organisation answer None (or nothing), so a loader cannot leak across tenants.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain import reads
from spm_api.domain.approvals import rounds
from spm_api.domain.finance import business_case, charging
from spm_api.domain.market import links as market_links
from spm_api.domain.stewardship import readings
from spm_api.domain.strategy import settings as strategy_settings
from spm_api.models import (
    Affirmation,
    ApiToken,
    ApprovalRound,
    Baseline,
    BudgetLine,
    BusinessCaseYear,
    Capability,
    Contractor,
    CostEntry,
    Customer,
    CustomerNeed,
    Engagement,
    EngagementAttempt,
    Kpi,
    MarketSegment,
    MarketSpace,
    Measurement,
    Organisation,
    Person,
    Quote,
    RealisedBenefit,
    Requirement,
    Risk,
    Service,
    ServiceAlignment,
    ServiceLevel,
    ServiceOffering,
    StageChange,
    Stakeholder,
    StakeholderInput,
    StakeholderReport,
    Statement,
    StatementLine,
    StrategicObjective,
    Subscription,
    Vote,
)

BatchRead = Callable[..., Awaitable[Sequence[Any]]]


async def _organisations(*, session: AsyncSession, organisation_id: int, ids: Sequence[int]
                         ) -> list[Organisation | None]:
    own = await session.get(Organisation, organisation_id)
    return [own if key == organisation_id else None for key in ids]


async def _plugin_settings(*, session: AsyncSession, organisation_id: int,
                           ids: Sequence[int]) -> list[dict[str, Any]]:
    own = await rounds.settings_by_plugin(session, organisation_id)
    return [own if key == organisation_id else {} for key in ids]


async def _approval_setups(*, session: AsyncSession, organisation_id: int, ids: Sequence[int]
                           ) -> list[rounds.ApprovalSetup]:
    own = await rounds.approval_setup(session, organisation_id)
    return [own for _ in ids]


#: Rows by id: relation name → the row type.
ROWS_BY_ID: dict[str, type[Any]] = {
    "service": Service,
    "person": Person,
    "requirement": Requirement,
    "stakeholder_input": StakeholderInput,
    "stage_change": StageChange,
    "vote": Vote,
    "affirmation": Affirmation,
    "customer": Customer,
    "statement": Statement,
    "budget_line": BudgetLine,
    "cost_entry": CostEntry,
    "contractor": Contractor,
    "capability": Capability,
    "engagement": Engagement,
    "kpi": Kpi,
    "measurement": Measurement,
    "stakeholder": Stakeholder,
    "stakeholder_report": StakeholderReport,
    "risk": Risk,
    "strategic_objective": StrategicObjective,
    "market_space": MarketSpace,
    "market_segment": MarketSegment,
    "customer_need": CustomerNeed,
    "service_offering": ServiceOffering,
    "subscription": Subscription,
}

#: Children per parent id: relation name → (row type, parent column).
CHILDREN: dict[str, tuple[type[Any], str]] = {
    "requirements_of_service": (Requirement, "service_id"),
    "stakeholder_inputs_of_service": (StakeholderInput, "service_id"),
    "stage_changes_of_service": (StageChange, "service_id"),
    "approval_rounds_of_service": (ApprovalRound, "service_id"),
    "baselines_of_service": (Baseline, "service_id"),
    "affirmations_of_service": (Affirmation, "service_id"),
    "votes_of_round": (Vote, "round_id"),
    "budget_lines_of_service": (BudgetLine, "service_id"),
    "lines_of_statement": (StatementLine, "statement_id"),
    "capabilities_of_service": (Capability, "service_id"),
    "engagements_of_service": (Engagement, "service_id"),
    "quotes_of_capability": (Quote, "capability_id"),
    "attempts_of_engagement": (EngagementAttempt, "engagement_id"),
    "kpis_of_service": (Kpi, "service_id"),
    "stakeholders_of_service": (Stakeholder, "service_id"),
    "stakeholder_reports_of_service": (StakeholderReport, "service_id"),
    "case_years_of_service": (BusinessCaseYear, "service_id"),
    "realised_benefits_of_service": (RealisedBenefit, "service_id"),
    "risks_of_service": (Risk, "service_id"),
    "alignments_of_service": (ServiceAlignment, "service_id"),
    "alignments_of_objective": (ServiceAlignment, "objective_id"),
    "segments_of_space": (MarketSegment, "market_space_id"),
    "customers_of_segment": (Customer, "market_segment_id"),
    "needs_of_segment": (CustomerNeed, "segment_id"),
    "needs_of_customer": (CustomerNeed, "customer_id"),
    "offerings_of_segment": (ServiceOffering, "segment_id"),
    "levels_of_offering": (ServiceLevel, "offering_id"),
    "subscriptions_of_offering": (Subscription, "offering_id"),
    "subscriptions_of_customer": (Subscription, "customer_id"),
}

#: Everything else a loader answers, by relation name.
OTHER: dict[str, BatchRead] = {
    "organisation": _organisations,
    "roles_of_person": reads.roles_of,
    "approval_setup": _approval_setups,
    "charging_policy_of_service": charging.policies_of,
    "monthly_budget_of_service": business_case.monthly_budgets,
    "readings_of_service": readings.readings_of_services,
    "plugin_settings": _plugin_settings,
    "strategy": strategy_settings.strategies,
    "services_of_offering": market_links.services_of_offerings,
    "offerings_of_service": market_links.offerings_of_services,
    "services_of_need": market_links.services_of_needs,
    "offerings_of_need": market_links.offerings_of_needs,
}

#: The row type a node loaded by this relation name stands for.
ROW_TYPES: dict[str, type[Any]] = {**ROWS_BY_ID, "organisation": Organisation,
                                   # read per actor (``access.tokens.tokens_by_id``)
                                   "api_token": ApiToken}


def batch(name: str) -> BatchRead:
    """The batch read of the relation ``name``."""
    if name in ROWS_BY_ID:
        return partial(reads.rows_by_id, model=ROWS_BY_ID[name])
    if name in CHILDREN:
        model, parent = CHILDREN[name]
        return partial(reads.children_of, model=model, parent=parent)
    return OTHER[name]


def is_row_of(obj: object, name: str) -> bool:
    """Whether ``obj`` is a row of the type the relation ``name`` loads."""
    row_type = ROW_TYPES.get(name)
    return row_type is not None and isinstance(obj, row_type)
