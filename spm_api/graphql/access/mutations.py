"""People and token mutations: decode the input, call one domain command."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from spm_api.domain.access import people, tokens
from spm_api.graphql.access.inputs import (
    CreateTokenInput,
    InvitePersonInput,
    PersonInput,
    PersonRoleInput,
    TokenInput,
)
from spm_api.graphql.access.payloads import (
    InvitePersonPayload,
    PersonPayload,
    TokenPayload,
    TokenSecretPayload,
)
from spm_api.graphql.access.types import ApiTokenNode
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.ids import node_pk
from spm_api.graphql.core.nodes import as_node
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.unit_of_work import run_mutation
from spm_api.graphql.portfolio.types import PersonNode


@strawberry.type
class AccessMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Add a person with their roles and issue their first "
                                     "token, whose secret is in the payload (admins).")
    async def invite_person(self, info: Info[Context, None], input: InvitePersonInput
                            ) -> InvitePersonPayload:
        invited, errors = await run_mutation(info, lambda session, actor: people.invite_person(
            session, actor, name=input.name, email=input.email, roles=input.roles,
            token_name=input.token_name, token_expires_at=input.token_expires_at))
        if invited is None:
            return InvitePersonPayload(errors=errors)
        person, token, secret = invited
        return InvitePersonPayload(person=as_node(PersonNode, person),
                                   token=as_node(ApiTokenNode, token), secret=secret)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Give a person a role; one they hold is no change "
                                     "(admins).")
    async def grant_role(self, info: Info[Context, None], input: PersonRoleInput
                         ) -> PersonPayload:
        person, errors = await run_mutation(info, lambda session, actor: people.grant_role(
            session, actor, node_pk(input.person_id, "Person", "personId"), input.role))
        return PersonPayload(person=as_node(PersonNode, person), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Take a role from a person; the last active admin keeps "
                                     "ADMIN (LAST_ADMIN) and everyone keeps one role "
                                     "(admins).")
    async def revoke_role(self, info: Info[Context, None], input: PersonRoleInput
                          ) -> PersonPayload:
        person, errors = await run_mutation(info, lambda session, actor: people.revoke_role(
            session, actor, node_pk(input.person_id, "Person", "personId"), input.role))
        return PersonPayload(person=as_node(PersonNode, person), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Refuse every token of a person from the next request "
                                     "on, until reactivated; not the last active admin "
                                     "(LAST_ADMIN) (admins).")
    async def deactivate_person(self, info: Info[Context, None], input: PersonInput
                                ) -> PersonPayload:
        person, errors = await run_mutation(
            info, lambda session, actor: people.deactivate_person(
                session, actor, node_pk(input.person_id, "Person", "personId")))
        return PersonPayload(person=as_node(PersonNode, person), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Let a deactivated person's unrevoked, unexpired tokens "
                                     "authenticate again (admins).")
    async def reactivate_person(self, info: Info[Context, None], input: PersonInput
                                ) -> PersonPayload:
        person, errors = await run_mutation(
            info, lambda session, actor: people.reactivate_person(
                session, actor, node_pk(input.person_id, "Person", "personId")))
        return PersonPayload(person=as_node(PersonNode, person), errors=errors)

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Create an API token for yourself (or, for admins, "
                                     "anyone); its secret is in the payload, only there.")
    async def create_token(self, info: Info[Context, None], input: CreateTokenInput
                           ) -> TokenSecretPayload:
        def person_of(own: int) -> int:
            return own if input.person_id is None else node_pk(input.person_id, "Person",
                                                               "personId")

        created, errors = await run_mutation(info, lambda session, actor: tokens.create_token(
            session, actor, person_id=person_of(actor.person_id), name=input.name,
            expires_at=input.expires_at))
        if created is None:
            return TokenSecretPayload(errors=errors)
        return TokenSecretPayload(token=as_node(ApiTokenNode, created[0]), secret=created[1])

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Give a token a new secret, in the payload; the old one "
                                     "is refused from the next request on.")
    async def rotate_token(self, info: Info[Context, None], input: TokenInput
                           ) -> TokenSecretPayload:
        rotated, errors = await run_mutation(info, lambda session, actor: tokens.rotate_token(
            session, actor, node_pk(input.token_id, "ApiToken", "tokenId")))
        if rotated is None:
            return TokenSecretPayload(errors=errors)
        return TokenSecretPayload(token=as_node(ApiTokenNode, rotated[0]), secret=rotated[1])

    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Refuse a token from the next request on, for good.")
    async def revoke_token(self, info: Info[Context, None], input: TokenInput
                           ) -> TokenPayload:
        token, errors = await run_mutation(info, lambda session, actor: tokens.revoke_token(
            session, actor, node_pk(input.token_id, "ApiToken", "tokenId")))
        return TokenPayload(token=as_node(ApiTokenNode, token), errors=errors)
