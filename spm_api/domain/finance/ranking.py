"""Ranking pipeline services for investment by a scoring model (a plugin hook; the
default is the model registered as such). The model is given each service's business
case (with its NPV), its stakeholders' support, its risk exposure and its alignment to
strategic objectives, read in a fixed number of grouped statements."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.domain.actor import Actor
from spm_api.domain.approvals.rounds import settings_by_plugin
from spm_api.domain.finance.books import books_of
from spm_api.domain.finance.business_case import monthly_budgets, service_facts
from spm_api.domain.reads import children_of
from spm_api.domain.strategy import figures
from spm_api.domain.strategy.cases import flows_of
from spm_api.domain.strategy.objectives import alignment_totals
from spm_api.domain.strategy.risks import Exposure, exposures
from spm_api.domain.strategy.settings import strategy_of
from spm_api.models import BusinessCaseYear, Service, StakeholderInput
from spm_api.plugins.contracts import SCORE, SCORING_MODELS, Score, Support
from spm_api.plugins.host import PluginHost
from spm_api.plugins.registry import builtin_default
from spm_api.vocabulary.enums import Position
from spm_api.vocabulary.stages import Section, stages_in

DEFAULT_SCORING_MODEL = builtin_default(SCORING_MODELS)
#: The alignment of a service aligned to nothing, to the four places weights are kept in.
NOT_ALIGNED = Decimal("0.0000")


@dataclass(frozen=True, slots=True)
class Ranked:
    rank: int
    service: Service
    score: Score
    support: Support
    exposure: Exposure
    alignment: Decimal


async def pipeline_ranking(session: AsyncSession, actor: Actor, plugins: PluginHost,
                           scoring_model: str = DEFAULT_SCORING_MODEL) -> list[Ranked]:
    """Pipeline services, best score first (ties by name)."""
    registered = plugins.registry(SCORING_MODELS).require(scoring_model)
    books = await books_of(session, actor.organisation_id)
    services = list(await session.scalars(
        select(Service).where(Service.organisation_id == actor.organisation_id,
                              Service.stage.in_(stages_in(Section.PIPELINE)))
        .order_by(Service.name)))
    ids = [service.id for service in services]
    budgets = await monthly_budgets(session=session, organisation_id=actor.organisation_id,
                                    ids=ids)
    positions: dict[int, dict[str, int]] = defaultdict(dict)
    for service_id, position, count in (await session.execute(
            select(StakeholderInput.service_id, StakeholderInput.position, func.count())
            .where(StakeholderInput.organisation_id == actor.organisation_id,
                   StakeholderInput.service_id.in_(ids))
            .group_by(StakeholderInput.service_id, StakeholderInput.position))):
        positions[service_id][Position(position).value.lower()] = count
    cases = await children_of(session, BusinessCaseYear, actor.organisation_id, ids)
    strategy = await strategy_of(session, actor.organisation_id)
    exposure = await exposures(session, actor.organisation_id, ids)
    aligned = await alignment_totals(session, actor.organisation_id, ids)
    settings = (await settings_by_plugin(session, actor.organisation_id)).get(
        registered.plugin, {})
    scored = []
    for service, budget, case in zip(services, budgets, cases, strict=True):
        support = Support(**positions.get(service.id, {}))
        risk = exposure.get(service.id, Exposure())
        alignment, objectives = aligned.get(service.id, (NOT_ALIGNED, ()))
        facts = replace(
            service_facts(service, books, budget, case),
            npv=figures.evaluate(flows_of(case), strategy.discount_rate,
                                 books.currency).npv if case else None,
            risk_exposure=risk.total, open_risks=risk.risks,
            highest_risk_exposure=risk.highest, alignment=alignment, objectives=objectives)
        score = await plugins.call(SCORE, registered, facts, support, settings)
        scored.append((service, score, support, risk, alignment))
    scored.sort(key=lambda item: (-item[1].value, item[0].name))
    return [Ranked(rank, service, score, support, risk, alignment)
            for rank, (service, score, support, risk, alignment) in enumerate(scored, start=1)]
