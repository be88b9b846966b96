"""Row types the domain hands to the layers above, which wrap them in GraphQL types and
pass them back to domain functions but never query with them."""

from __future__ import annotations

from spm_api.models import ApprovalRound, Baseline, StatementLine, Vote

__all__ = ["ApprovalRound", "Baseline", "StatementLine", "Vote"]
