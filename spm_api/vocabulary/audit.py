"""What the audit trail names: the kinds of things changed and the kinds of change."""

from __future__ import annotations

import re
from enum import StrEnum


class AuditEntity(StrEnum):
    """The kind of thing an audit event is about."""

    SERVICE = "SERVICE"
    REQUIREMENT = "REQUIREMENT"
    STAKEHOLDER_INPUT = "STAKEHOLDER_INPUT"
    BUDGET_LINE = "BUDGET_LINE"
    COST_ENTRY = "COST_ENTRY"
    USAGE_RECORD = "USAGE_RECORD"
    CHARGING_POLICY = "CHARGING_POLICY"
    #: The organisation's choice of approval rules (its id is the organisation's).
    APPROVAL_RULES = "APPROVAL_RULES"
    #: One plugin's settings for the organisation (its id is the organisation's).
    PLUGIN_SETTINGS = "PLUGIN_SETTINGS"
    CONTRACTOR = "CONTRACTOR"
    PERSON = "PERSON"
    API_TOKEN = "API_TOKEN"
    VOTE = "VOTE"
    #: The organisation's books: its currency and fiscal year.
    ORGANISATION = "ORGANISATION"
    CUSTOMER = "CUSTOMER"
    COST_CATEGORY = "COST_CATEGORY"


class AuditAction(StrEnum):
    """What happened to it."""

    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"
    #: Many rows at once (a CSV import): ``after`` says how many and from where.
    IMPORTED = "IMPORTED"
    #: A service moved to another stage (its stage-change record has the details).
    STAGE_CHANGED = "STAGE_CHANGED"
    ROLE_GRANTED = "ROLE_GRANTED"
    ROLE_REVOKED = "ROLE_REVOKED"
    DEACTIVATED = "DEACTIVATED"
    REACTIVATED = "REACTIVATED"
    ROTATED = "ROTATED"
    REVOKED = "REVOKED"
    CAST = "CAST"


#: What is shown in place of a secret: the audit trail never holds one.
MASKED = "****"

#: Setting names whose values are credentials: never shown back in full, never recorded.
SECRET_NAME = re.compile(r"token|secret|password|passwd|credential|api_?key|auth|private",
                         re.IGNORECASE)
