"""Expected domain failures, reported to clients as ``UserError``s rather than tracebacks."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    VALIDATION = "VALIDATION"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    GUARD_FAILED = "GUARD_FAILED"
    REASON_REQUIRED = "REASON_REQUIRED"
    STAGE_LOCKED = "STAGE_LOCKED"
    APPROVAL_REQUIRED = "APPROVAL_REQUIRED"
    PLUGIN_ERROR = "PLUGIN_ERROR"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    PERIOD_CLOSED = "PERIOD_CLOSED"
    SERVICE_ENDED = "SERVICE_ENDED"
    REVIEW_DECIDED = "REVIEW_DECIDED"
    NOT_IN_CATALOGUE = "NOT_IN_CATALOGUE"
    RISK_CLOSED = "RISK_CLOSED"
    #: The change would leave the organisation without an active admin.
    LAST_ADMIN = "LAST_ADMIN"
    #: The person is deactivated: no token is issued for them until they are reactivated.
    PERSON_DEACTIVATED = "PERSON_DEACTIVATED"
    #: The token was revoked; it cannot be rotated (create a new one).
    TOKEN_REVOKED = "TOKEN_REVOKED"
    #: The token has expired; it cannot be rotated (create a new one).
    TOKEN_EXPIRED = "TOKEN_EXPIRED"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a request: a machine code, the input field, and words for people."""

    code: ErrorCode
    message: str
    field: str | None = None


class DomainError(Exception):
    """A request the rules refuse. Carries every problem found, not just the first."""

    def __init__(self, *problems: Problem) -> None:
        if not problems:
            raise ValueError("a DomainError needs at least one problem")
        self.problems: tuple[Problem, ...] = problems
        super().__init__("; ".join(problem.message for problem in problems))


def fail(code: ErrorCode, message: str, field: str | None = None) -> DomainError:
    """Shorthand for a DomainError with a single problem: ``raise fail(...)``."""
    return DomainError(Problem(code, message, field))
