"""The default approval rule (registered ``default=True``): a strict majority of all the
organisation's decision makers."""

from __future__ import annotations

from spm_api.plugins.contracts import ApprovalRule, Ballot, Settings, Verdict
from spm_api.plugins.markers import hookimpl
from spm_api.vocabulary.enums import ApprovalStatus, Decision

RULE_NAME = "majority"


def evaluate(ballot: Ballot, _settings: Settings) -> Verdict:
    """More than half of all decision makers approve → APPROVED; more than half reject
    → REJECTED; anything else (ties, abstentions, votes still to come) → PENDING."""
    eligible = len(ballot.decision_makers)
    approvals = ballot.count(Decision.APPROVE)
    rejections = ballot.count(Decision.REJECT)
    needed = eligible // 2 + 1
    tally = f"{approvals} of {eligible} decision makers approve, {rejections} reject"
    if eligible == 0:
        return Verdict(ApprovalStatus.PENDING,
                       "the organisation has no decision makers to vote")
    if approvals >= needed:
        return Verdict(ApprovalStatus.APPROVED, f"{tally}: a majority ({needed}) approves")
    if rejections >= needed:
        return Verdict(ApprovalStatus.REJECTED, f"{tally}: a majority ({needed}) rejects")
    return Verdict(ApprovalStatus.PENDING,
                   f"{tally}: {needed} are needed for a majority either way")


@hookimpl
def spm_approval_rules() -> list[ApprovalRule]:
    return [ApprovalRule(
        name=RULE_NAME,
        title="Majority of decision makers",
        description="Approved when more than half of all the organisation's decision "
                    "makers approve; rejected when more than half reject.",
        evaluate=evaluate,
        default=True,
    )]
