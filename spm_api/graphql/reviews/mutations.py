"""Review mutations: decode the input, call one domain command, shape the payload."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from spm_api.domain.reviews import commands
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.enums import Decision, Recommendation
from spm_api.graphql.core.errors import UserError
from spm_api.graphql.core.ids import node_pk
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.unit_of_work import run_mutation
from spm_api.graphql.reviews.types import REVIEW, PortfolioReview, review_of


@strawberry.input(description="A new review of catalogue services over some months.")
class OpenPortfolioReviewInput:
    title: str = strawberry.field(description="What the review is called.")
    period_from: str = strawberry.field(description="The first month, YYYY-MM.")
    period_to: str = strawberry.field(description="The last month, YYYY-MM.")
    service_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="The services to review; every LIVE and RETIRING "
                                  "service when left out.")


@strawberry.input(description="A recommendation for one service under review.")
class RecommendInput:
    review_id: strawberry.ID = strawberry.field(description="The review.")
    service_id: strawberry.ID = strawberry.field(description="The service under review.")
    recommendation: Recommendation = strawberry.field(description="What to do with it.")
    successor_service_id: strawberry.ID | None = strawberry.field(
        default=None, description="REPLACE: the successor; RATIONALISE: the service it is "
                                  "merged into. Required for those two, refused otherwise.")
    rationale: str = strawberry.field(default="", description="Why.")
    planned_end_date: date | None = strawberry.field(
        default=None, description="RETIRE (required): the last day it is delivered.")


@strawberry.input(description="A decision maker's vote on one recommendation.")
class VoteOnRecommendationInput:
    review_id: strawberry.ID = strawberry.field(description="The review.")
    service_id: strawberry.ID = strawberry.field(description="The service under review.")
    decision: Decision = strawberry.field(description="Approve, reject or abstain.")
    comment: str = strawberry.field(default="", description="Why.")


@strawberry.input(description="Decide a review.")
class DecideReviewInput:
    review_id: strawberry.ID = strawberry.field(description="The review.")


@strawberry.type(description="The review as changed, or why not.")
class PortfolioReviewPayload:
    review: PortfolioReview | None = strawberry.field(default=None,
                                                      description="The review.")
    errors: list[UserError] = strawberry.field(default_factory=list,
                                               description="Why it was refused.")


def _payload(row: Any, errors: list[UserError]) -> PortfolioReviewPayload:
    return PortfolioReviewPayload(review=review_of(row), errors=errors)


@strawberry.type
class ReviewsMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Open a portfolio review (portfolio managers, admins).")
    async def open_portfolio_review(self, info: Info[Context, None],
                                    input: OpenPortfolioReviewInput) -> PortfolioReviewPayload:
        ids = None if input.service_ids is None else [
            node_pk(raw, "Service", f"serviceIds.{index}")
            for index, raw in enumerate(input.service_ids)]
        row, errors = await run_mutation(info, lambda session, actor: commands.open_review(
            session, actor, title=input.title, period_from=input.period_from,
            period_to=input.period_to, service_ids=ids))
        return _payload(row, errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Recommend what to do with a service under review "
                                     "(portfolio managers, admins); a changed "
                                     "recommendation withdraws the votes cast on it.")
    async def recommend(self, info: Info[Context, None], input: RecommendInput
                        ) -> PortfolioReviewPayload:
        review = node_pk(input.review_id, REVIEW, "reviewId")
        asked = commands.Recommend(
            service_id=node_pk(input.service_id, "Service", "serviceId"),
            recommendation=input.recommendation,
            successor_service_id=None if input.successor_service_id is None else node_pk(
                input.successor_service_id, "Service", "successorServiceId"),
            rationale=input.rationale, planned_end_date=input.planned_end_date)

        async def action(session: Any, actor: Any) -> Any:
            await commands.recommend(session, actor, review, asked)
            return await commands.load_review(session, actor, review)

        row, errors = await run_mutation(info, action)
        return _payload(row, errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Vote on a recommendation (decision makers).")
    async def vote_on_recommendation(self, info: Info[Context, None],
                                     input: VoteOnRecommendationInput
                                     ) -> PortfolioReviewPayload:
        review = node_pk(input.review_id, REVIEW, "reviewId")
        service = node_pk(input.service_id, "Service", "serviceId")

        async def action(session: Any, actor: Any) -> Any:
            await commands.vote(session, actor, review, service, input.decision,
                                input.comment)
            return await commands.load_review(session, actor, review)

        row, errors = await run_mutation(info, action)
        return _payload(row, errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Decide a review (portfolio managers, admins): each "
                                     "recommendation is judged by the approval rules and "
                                     "the approved ones are carried out.")
    async def decide_review(self, info: Info[Context, None], input: DecideReviewInput
                            ) -> PortfolioReviewPayload:
        plugins = info.context.plugins
        review = node_pk(input.review_id, REVIEW, "reviewId")
        row, errors = await run_mutation(info, lambda session, actor: commands.decide_review(
            session, actor, plugins, review))
        return _payload(row, errors)
