"""Review root query fields."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from spm_api.domain.actor import Actor
from spm_api.domain.reviews import reads
from spm_api.domain.session import Session
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.ids import database_id
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.reading import read
from spm_api.graphql.reviews.types import REVIEW, PortfolioReview, review_of
from spm_api.vocabulary.errors import DomainError


@strawberry.type
class ReviewsQuery:
    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="One portfolio review; null when there is no such review.")
    async def portfolio_review(self, info: Info[Context, None],
                               id: strawberry.ID) -> PortfolioReview | None:
        pk = database_id(id, REVIEW)
        if pk is None:
            return None

        async def query(session: Session, actor: Actor) -> Any:
            try:
                return await reads.review_of(session, actor, pk)
            except DomainError:
                return None

        return review_of(await read(info, query))

    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="Your organisation's reviews, newest first.")
    async def portfolio_reviews(
        self, info: Info[Context, None],
        first: Annotated[int, strawberry.argument(description="How many, at most 100.")] = 20,
        after: Annotated[int, strawberry.argument(description="How many to skip.")] = 0,
    ) -> list[PortfolioReview]:
        async def query(session: Session, actor: Actor) -> Any:
            return await reads.ReviewsOf(actor.organisation_id).fetch(
                session, max(after, 0), min(max(first, 0), 100))

        return [found for row in await read(info, query)
                if (found := review_of(row)) is not None]
