"""Payloads of the people and token mutations. A ``secret`` is returned only by the
mutation that made it, never by any read."""

from __future__ import annotations

import strawberry

from spm_api.graphql.access.types import ApiTokenNode
from spm_api.graphql.core.errors import UserError
from spm_api.graphql.portfolio.types import PersonNode


@strawberry.type(description="A person as a mutation left them.")
class PersonPayload:
    person: PersonNode | None = strawberry.field(default=None, description="The person.")
    errors: list[UserError] = strawberry.field(default_factory=list,
                                               description="Why nothing changed, if so.")


@strawberry.type(description="The person invited and their first token.")
class InvitePersonPayload:
    person: PersonNode | None = strawberry.field(default=None, description="The new person.")
    token: ApiTokenNode | None = strawberry.field(default=None,
                                                  description="Their first token.")
    secret: str | None = strawberry.field(
        default=None, description="That token in clear, to hand to them: shown only now.")
    errors: list[UserError] = strawberry.field(default_factory=list,
                                               description="Why nothing changed, if so.")


@strawberry.type(description="A token with its new secret.")
class TokenSecretPayload:
    token: ApiTokenNode | None = strawberry.field(default=None, description="The token.")
    secret: str | None = strawberry.field(
        default=None, description="The token in clear, for the Authorization header: "
                                  "shown only now, never again.")
    errors: list[UserError] = strawberry.field(default_factory=list,
                                               description="Why nothing changed, if so.")


@strawberry.type(description="A token as a mutation left it.")
class TokenPayload:
    token: ApiTokenNode | None = strawberry.field(default=None, description="The token.")
    errors: list[UserError] = strawberry.field(default_factory=list,
                                               description="Why nothing changed, if so.")
