"""Reading people, decision makers and API tokens."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from spm_api.domain.access import directory, tokens
from spm_api.graphql.access.types import ApiTokenNode
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.enums import Role
from spm_api.graphql.core.ids import database_id, node_pk
from spm_api.graphql.core.pagination import CountedConnection, QuerySource
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.reading import coded_error
from spm_api.graphql.portfolio.types import PersonNode
from spm_api.vocabulary.errors import DomainError


@strawberry.type(name="PersonConnection", description="People, a page at a time.")
class PersonConnection(CountedConnection[PersonNode]):
    """People, a page at a time."""


@strawberry.type(name="ApiTokenConnection", description="API tokens, a page at a time.")
class ApiTokenConnection(CountedConnection[ApiTokenNode]):
    """API tokens, a page at a time."""


@strawberry.type
class AccessQuery:
    @relay.connection(PersonConnection, permission_classes=AUTHENTICATED,
                      description="People of your organisation by name, with their roles: "
                                  "for pickers and the admin's list.")
    async def people(
        self, info: Info[Context, None],
        search: Annotated[str | None, strawberry.argument(
            description="A part of the name or e-mail address, in any case; those "
                        "starting with it come first.")] = None,
        roles: Annotated[list[Role] | None, strawberry.argument(
            description="Only people holding any of these roles.")] = None,
        include_deactivated: Annotated[bool, strawberry.argument(
            description="Deactivated people too.")] = False,
    ) -> QuerySource[PersonNode]:
        assert info.context.actor is not None
        return QuerySource(info.context, directory.people(
            info.context.actor, search=search, roles=roles or (),
            include_deactivated=include_deactivated))

    @strawberry.field(permission_classes=AUTHENTICATED,
                      description="A person of your organisation; null for any other id.")
    async def person(self, info: Info[Context, None],
                     id: Annotated[strawberry.ID, strawberry.argument(
                         description="The person's id.")]
                     ) -> PersonNode | None:
        pk = database_id(id, "Person")
        if pk is None:
            return None
        return await info.context.loaders.person.load(pk)

    @relay.connection(PersonConnection, permission_classes=AUTHENTICATED,
                      description="The active people who vote on approvals, by name.")
    async def decision_makers(self, info: Info[Context, None]) -> QuerySource[PersonNode]:
        assert info.context.actor is not None
        return QuerySource(info.context, directory.decision_makers(info.context.actor))

    @relay.connection(ApiTokenConnection, permission_classes=AUTHENTICATED,
                      description="API tokens, newest first, revoked and expired ones too: "
                                  "their metadata, never a secret.")
    async def tokens(
        self, info: Info[Context, None],
        person_id: Annotated[strawberry.ID | None, strawberry.argument(
            description="Whose tokens: yours by default; admins may name anyone in "
                        "the organisation.")] = None,
    ) -> QuerySource[ApiTokenNode]:
        actor = info.context.actor
        assert actor is not None
        try:
            whose = None if person_id is None else node_pk(person_id, "Person", "personId")
            return QuerySource(info.context, tokens.tokens_of(actor, whose))
        except DomainError as error:
            raise coded_error(error) from error
