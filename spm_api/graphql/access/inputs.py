"""Inputs for managing people and tokens."""

from __future__ import annotations

from datetime import datetime

import strawberry

from spm_api.graphql.core.enums import Role


@strawberry.input(description="Add a person to your organisation and issue their first "
                              "token (admins).")
class InvitePersonInput:
    name: str = strawberry.field(description="Their name.")
    email: str = strawberry.field(description="Their e-mail address, unique in the "
                                              "organisation (stored in lower case).")
    roles: list[Role] = strawberry.field(description="Their roles: at least one.")
    token_name: str = strawberry.field(default="invitation",
                                       description="The name of the token issued to them.")
    token_expires_at: datetime | None = strawberry.field(
        default=None, description="When that token expires (with a time zone); null: never.")


@strawberry.input(description="Give a person a role, or take one away (admins).")
class PersonRoleInput:
    person_id: strawberry.ID = strawberry.field(description="A person of your organisation.")
    role: Role = strawberry.field(description="The role.")


@strawberry.input(description="Deactivate or reactivate a person (admins).")
class PersonInput:
    person_id: strawberry.ID = strawberry.field(description="A person of your organisation.")


@strawberry.input(description="Create an API token.")
class CreateTokenInput:
    name: str = strawberry.field(description="What the token is for (shown in listings).")
    expires_at: datetime | None = strawberry.field(
        default=None, description="When it stops authenticating (with a time zone); "
                                  "null: never.")
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="Whom it is for: yourself by default; admins may name "
                                  "anyone in the organisation.")


@strawberry.input(description="Name one API token: your own, or anyone's for admins.")
class TokenInput:
    token_id: strawberry.ID = strawberry.field(description="The token.")
