"""Review root query fields."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from spm_api.domain.actor import Actor
from spm_api.domain.reviews import reads
from spm_api.domain.session import Session
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.ids import database_id
from spm_api.graphql.core.pagination import CountedConnection, QuerySource
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.reading import read
from spm_api.graphql.reviews.types import REVIEW, PortfolioReview, review_of
from spm_api.vocabulary.errors import DomainError


@strawberry.type(name="PortfolioReviewConnection")
class PortfolioReviewConnection(CountedConnection[PortfolioReview]):  # type: ignore[type-var]
    """Portfolio reviews, a page at a time."""

    @classmethod
    def resolve_node(cls, node: Any, *, info: Any, **kwargs: Any) -> PortfolioReview:
        found = review_of(node)
        assert found is not None
        return found


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

    @relay.connection(PortfolioReviewConnection, permission_classes=AUTHENTICATED,
                      description="Your organisation's reviews, newest first, a page at a "
                                  "time (first/after, as services).")
    def portfolio_reviews(self, info: Info[Context, None]
                          ) -> QuerySource[PortfolioReview]:
        actor = info.context.actor
        assert actor is not None
        return QuerySource(info.context, reads.ReviewsOf(actor.organisation_id))
