"""``UserError``: an expected refusal, reported in a mutation's payload."""

from __future__ import annotations

import strawberry

from spm_api.graphql.core.enums import UserErrorCode
from spm_api.vocabulary.errors import Problem


@strawberry.type(description="An expected problem with a mutation's input or the rules.")
class UserError:
    code: UserErrorCode
    field: str | None = strawberry.field(description="The input field at fault, if one is.")
    message: str

    @classmethod
    def from_problem(cls, problem: Problem) -> UserError:
        return cls(code=problem.code, field=problem.field, message=problem.message)
