"""Opening a portfolio review, recommending, voting and deciding. Portfolio managers and
admins open, recommend and decide; decision makers vote. A decided review is frozen:
every change to it is refused with REVIEW_DECIDED."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from spm_api.db.base import utcnow
from spm_api.domain.actor import Actor, Permission
from spm_api.domain.portfolio.services import create_service, touch
from spm_api.domain.portfolio.transitions import Move, move_service
from spm_api.domain.reads import load_owned
from spm_api.domain.reviews.rulings import rulings
from spm_api.domain.stewardship.health import MEASURED_STAGES
from spm_api.models import PortfolioReview, ReviewItem, ReviewVote, Service
from spm_api.plugins.host import PluginHost
from spm_api.vocabulary.enums import (
    ApprovalStatus,
    Decision,
    InvestmentCategory,
    ItemDecision,
    Recommendation,
    ReviewState,
)
from spm_api.vocabulary.errors import DomainError, ErrorCode, Problem, fail
from spm_api.vocabulary.periods import Period
from spm_api.vocabulary.stages import SECTION_OF_STAGE, Section, Stage
from spm_api.vocabulary.validation import optional_text, required_text

#: Recommendations that name another service: the successor, or the one merged into.
NAMES_SUCCESSOR = frozenset({Recommendation.REPLACE, Recommendation.RATIONALISE})


@dataclass(frozen=True, slots=True)
class Recommend:
    """One recommendation as asked for: what, and for RETIRE and REPLACE/RATIONALISE
    what it needs."""

    service_id: int
    recommendation: Recommendation
    successor_service_id: int | None = None
    rationale: str = ""
    planned_end_date: date | None = None


async def _open_review(session: AsyncSession, actor: Actor, review_id: int
                       ) -> PortfolioReview:
    """The review, locked, refused once decided."""
    review = await load_owned(session, PortfolioReview, actor.organisation_id, review_id,
                              "reviewId", for_update=True)
    if review.state is ReviewState.DECIDED:
        raise fail(ErrorCode.REVIEW_DECIDED,
                   f"the review {review.title!r} was decided on "
                   f"{review.decided_at:%Y-%m-%d}: it accepts no change", "reviewId")
    return review


async def _item(session: AsyncSession, review: PortfolioReview, service_id: int
                ) -> ReviewItem:
    await load_owned(session, Service, review.organisation_id, service_id, "serviceId")
    item = await session.scalar(select(ReviewItem).where(
        ReviewItem.review_id == review.id, ReviewItem.service_id == service_id))
    if item is None:
        raise fail(ErrorCode.NOT_FOUND,
                   f"the service is not under review in {review.title!r}", "serviceId")
    return item


def _periods(period_from: str, period_to: str) -> tuple[str, str]:
    first = Period.parse(period_from, "periodFrom")
    last = Period.parse(period_to, "periodTo")
    if last < first:
        raise fail(ErrorCode.VALIDATION,
                   f"periodTo {last} is before periodFrom {first}", "periodTo")
    return str(first), str(last)


async def _services_to_review(session: AsyncSession, actor: Actor,
                              service_ids: Sequence[int] | None) -> list[int]:
    """The ids asked for, each checked to be a catalogue service of the organisation;
    without any, every catalogue service."""
    if service_ids is None:
        return list(await session.scalars(select(Service.id).where(
            Service.organisation_id == actor.organisation_id,
            Service.stage.in_(MEASURED_STAGES)).order_by(Service.id)))
    wanted = list(dict.fromkeys(service_ids))
    stages = dict((await session.execute(select(Service.id, Service.stage).where(
        Service.organisation_id == actor.organisation_id,
        Service.id.in_(set(wanted))))).all())
    problems = []
    for index, service_id in enumerate(wanted):
        stage = stages.get(service_id)
        if stage is None:
            problems.append(Problem(ErrorCode.NOT_FOUND, "no such service",
                                    f"serviceIds.{index}"))
        elif SECTION_OF_STAGE[stage] is not Section.CATALOGUE:
            problems.append(Problem(
                ErrorCode.NOT_IN_CATALOGUE,
                f"a review looks at catalogue services (LIVE, RETIRING); this one is "
                f"{stage.value}", f"serviceIds.{index}"))
    if problems:
        raise DomainError(*problems)
    return wanted


async def open_review(session: AsyncSession, actor: Actor, *, title: str, period_from: str,
                      period_to: str, service_ids: Sequence[int] | None = None
                      ) -> PortfolioReview:
    """A new OPEN review with one RETAIN item per service."""
    actor.require(Permission.TRANSITION_SERVICE)
    title = required_text(title, "title", 200)
    first, last = _periods(period_from, period_to)
    ids = await _services_to_review(session, actor, service_ids)
    if not ids:
        raise fail(ErrorCode.VALIDATION, "there is no catalogue service to review",
                   "serviceIds")
    review = PortfolioReview(organisation_id=actor.organisation_id, title=title,
                             period_from=first, period_to=last,
                             opened_by_id=actor.person_id)
    session.add(review)
    await session.flush()
    now = utcnow()
    await session.execute(insert(ReviewItem), [
        {"organisation_id": actor.organisation_id, "review_id": review.id,
         "service_id": service_id, "recommendation": Recommendation.RETAIN,
         "rationale": "", "decision": ItemDecision.PROPOSED, "verdict": "",
         "updated_at": now} for service_id in ids])
    return review


async def _check_successor(session: AsyncSession, actor: Actor, asked: Recommend
                           ) -> None:
    field = "successorServiceId"
    if asked.recommendation not in NAMES_SUCCESSOR:
        if asked.successor_service_id is not None:
            raise fail(ErrorCode.VALIDATION,
                       f"only REPLACE and RATIONALISE name another service, not "
                       f"{asked.recommendation.value}", field)
        return
    if asked.successor_service_id is None:
        what = "replaces it" if asked.recommendation is Recommendation.REPLACE \
            else "it is merged into"
        raise fail(ErrorCode.VALIDATION, f"name the service that {what}", field)
    if asked.successor_service_id == asked.service_id:
        raise fail(ErrorCode.VALIDATION, "a service cannot succeed itself", field)
    successor = await load_owned(session, Service, actor.organisation_id,
                                 asked.successor_service_id, field)
    if SECTION_OF_STAGE[successor.stage] in (Section.RETIRED, Section.TERMINATED):
        raise fail(ErrorCode.STAGE_LOCKED,
                   f"{successor.name!r} is {successor.stage.value}: it cannot take over",
                   field)


async def recommend(session: AsyncSession, actor: Actor, review_id: int, asked: Recommend
                    ) -> ReviewItem:
    """Set an item's recommendation. A changed recommendation withdraws the votes cast
    on the previous one."""
    actor.require(Permission.TRANSITION_SERVICE)
    review = await _open_review(session, actor, review_id)
    item = await _item(session, review, asked.service_id)
    await _check_successor(session, actor, asked)
    if asked.recommendation is Recommendation.RETIRE and asked.planned_end_date is None:
        raise fail(ErrorCode.VALIDATION, "give the planned end date: the last day the "
                   "service is delivered once it is retired", "plannedEndDate")
    if asked.recommendation is not Recommendation.RETIRE and asked.planned_end_date:
        raise fail(ErrorCode.VALIDATION, "plannedEndDate is given only to RETIRE",
                   "plannedEndDate")
    rationale = optional_text(asked.rationale, "rationale", 10_000)
    if (item.recommendation, item.successor_service_id, item.planned_end_date) != (
            asked.recommendation, asked.successor_service_id, asked.planned_end_date):
        await session.execute(delete(ReviewVote).where(ReviewVote.item_id == item.id))
    item.recommendation = asked.recommendation
    item.successor_service_id = asked.successor_service_id
    item.planned_end_date = asked.planned_end_date
    item.rationale = rationale
    item.recommended_by_id = actor.person_id
    item.updated_at = utcnow()
    await session.flush()
    return item


async def vote(session: AsyncSession, actor: Actor, review_id: int, service_id: int,
               decision: Decision, comment: str = "") -> ReviewItem:
    """A decision maker's vote on one item's recommendation; the latest one counts."""
    actor.require(Permission.VOTE)
    review = await _open_review(session, actor, review_id)
    item = await _item(session, review, service_id)
    session.add(ReviewVote(organisation_id=actor.organisation_id, item_id=item.id,
                           voter_id=actor.person_id, decision=decision,
                           comment=optional_text(comment, "comment", 10_000)))
    await session.flush()
    return item


async def items_of(session: AsyncSession, review_id: int) -> list[ReviewItem]:
    return list(await session.scalars(select(ReviewItem).where(
        ReviewItem.review_id == review_id).order_by(ReviewItem.id)))


async def _act(session: AsyncSession, actor: Actor, plugins: PluginHost,
               review: PortfolioReview, item: ReviewItem) -> None:
    """Carry out an approved recommendation."""
    service = await load_owned(session, Service, actor.organisation_id, item.service_id,
                               "serviceId")
    why = f"portfolio review {review.title!r}: {item.rationale or item.recommendation.value}"
    if item.recommendation is Recommendation.RETIRE:
        if service.stage is Stage.RETIRING:
            return
        await move_service(Move(session, plugins, service, Stage.RETIRING, why,
                                planned_end_date=item.planned_end_date), actor)
    elif item.recommendation in NAMES_SUCCESSOR:
        service.successor_id = item.successor_service_id
        touch(service)
    elif item.recommendation is Recommendation.INVEST:
        proposal = await create_service(
            session, actor, name=f"Invest in {service.name} (review {review.id})"[:200],
            investment_category=InvestmentCategory.GROW,
            summary=f"Investment in {service.name!r} decided by the portfolio review "
                    f"{review.title!r}.",
            objectives=item.rationale)
        item.proposal_service_id = proposal.id


async def decide_review(session: AsyncSession, actor: Actor, plugins: PluginHost,
                        review_id: int) -> PortfolioReview:
    """Judge every recommendation by the approval rules, act on the approved ones and
    freeze the review. A recommendation the rules have not approved by now is
    REJECTED. Any action refused (a guard of the stage machine) refuses the whole
    decision."""
    actor.require(Permission.TRANSITION_SERVICE)
    review = await _open_review(session, actor, review_id)
    items = await items_of(session, review.id)
    results = await rulings(session, plugins, actor.organisation_id, items)
    for item in items:
        result = results[item.id]
        approved = result.status is ApprovalStatus.APPROVED
        item.decision = ItemDecision.APPROVED if approved else ItemDecision.REJECTED
        item.verdict = result.explanation() if result.status is not ApprovalStatus.PENDING \
            else f"not approved when the review was decided: {result.explanation()}"
        item.updated_at = utcnow()
        if approved:
            try:
                await _act(session, actor, plugins, review, item)
            except DomainError as error:
                raise DomainError(*(Problem(p.code, f"{p.message} (recommendation "
                                            f"{item.recommendation.value} of service "
                                            f"{item.service_id})", p.field)
                                    for p in error.problems)) from error
    review.state = ReviewState.DECIDED
    review.decided_at = utcnow()
    review.decided_by_id = actor.person_id
    await session.flush()
    return review


async def load_review(session: AsyncSession, actor: Actor, review_id: int
                      ) -> PortfolioReview:
    return await load_owned(session, PortfolioReview, actor.organisation_id, review_id,
                            "reviewId")
