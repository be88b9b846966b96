"""Which fields the planned read path can answer, and how: a column, a relation read in
one statement per level, or a batched post-pass. A field missing here sends the whole
operation to the executor, so the plan never answers what it does not know."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any

from spm_api.vocabulary.stages import section_of


def plain(value: Any) -> Any:
    return value


def enum_name(value: Enum | None) -> str | None:
    return None if value is None else value._name_


def iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True)
class Column:
    """A value read straight from a column, encoded as the executor serialises it."""

    column: str
    encode: Callable[[Any], Any] = plain


@dataclass(frozen=True)
class Derived:
    """A value computed from one column (``Service.section`` from its stage)."""

    column: str
    compute: Callable[[Any], Any]


@dataclass(frozen=True)
class GlobalId:
    """The Relay id: the GraphQL type's name and the row's primary key."""


@dataclass(frozen=True)
class MoneyOf:
    """``{amount currency}`` of an amount column, in the organisation's currency."""

    column: str


@dataclass(frozen=True)
class One:
    """A row of ``target`` by id through ``column`` (a person, from ``owner_id``)."""

    relation: str
    column: str
    target: str


@dataclass(frozen=True)
class Many:
    """The child rows of ``relation`` (``batches.CHILDREN``), oldest first."""

    relation: str
    target: str


@dataclass(frozen=True)
class ApprovalOf:
    """The latest approval round and its verdicts: the plugins decide, so the round is
    worked out by the same domain function the executor uses, for all services at once."""


Shape = Column | Derived | GlobalId | MoneyOf | One | Many | ApprovalOf

#: GraphQL type name -> (the relation its rows are read by, its fields).
TYPES: dict[str, tuple[str, dict[str, Shape]]] = {
    "Service": ("service", {
        "id": GlobalId(),
        "name": Column("name"),
        "summary": Column("summary"),
        "objectives": Column("objectives"),
        "investmentCategory": Column("investment_category", enum_name),
        "stage": Column("stage", enum_name),
        "section": Derived("stage", lambda stage: section_of(stage).name),
        "version": Column("version"),
        "createdAt": Column("created_at", iso),
        "updatedAt": Column("updated_at", iso),
        "plannedEndDate": Column("planned_end_date", iso),
        "estimatedCost": MoneyOf("estimated_cost"),
        "expectedBenefit": MoneyOf("expected_benefit"),
        "owner": One("person", "owner_id", "Person"),
        "successor": One("service", "successor_id", "Service"),
        "requirements": Many("requirements_of_service", "Requirement"),
        "stakeholderInputs": Many("stakeholder_inputs_of_service", "StakeholderInput"),
        "stageChanges": Many("stage_changes_of_service", "StageChange"),
        "budgetLines": Many("budget_lines_of_service", "BudgetLine"),
        "approval": ApprovalOf(),
    }),
    "Person": ("person", {
        "id": GlobalId(),
        "name": Column("name"),
        "email": Column("email"),
    }),
    "StageChange": ("stage_change", {
        "id": GlobalId(),
        "fromStage": Column("from_stage", enum_name),
        "toStage": Column("to_stage", enum_name),
        "reason": Column("reason"),
        "at": Column("at", iso),
        "actor": One("person", "actor_id", "Person"),
    }),
    "Requirement": ("requirement", {
        "id": GlobalId(),
        "text": Column("text"),
        "necessity": Column("necessity", enum_name),
        "judgementReason": Column("judgement_reason"),
        "judgedAt": Column("judged_at", iso),
        "createdAt": Column("created_at", iso),
        "createdBy": One("person", "created_by_id", "Person"),
        "judgedBy": One("person", "judged_by_id", "Person"),
    }),
    "StakeholderInput": ("stakeholder_input", {
        "id": GlobalId(),
        "position": Column("position", enum_name),
        "comment": Column("comment"),
        "createdAt": Column("created_at", iso),
        "author": One("person", "author_id", "Person"),
    }),
    "BudgetLine": ("budget_line", {
        "id": GlobalId(),
        "period": Column("period"),
        "category": Column("category"),
        "updatedAt": Column("updated_at", iso),
        "amount": MoneyOf("amount"),
    }),
    "Vote": ("vote", {
        "id": GlobalId(),
        "decision": Column("decision", enum_name),
        "comment": Column("comment"),
        "castAt": Column("cast_at", iso),
        "voter": One("person", "voter_id", "Person"),
    }),
}

#: A portfolio review and what it shows, answered from the domain's item views
#: (``reviews.item_views``: the evidence and rulings are worked out, not columns).
#: Per GraphQL type, each field: ``""`` for a value, or the type shown below it (a row
#: type of ``TYPES`` read by id, or another of these).
REVIEW_TYPES: dict[str, dict[str, str]] = {
    "PortfolioReview": {"id": "", "title": "", "periodFrom": "", "periodTo": "", "state": "",
                        "openedAt": "", "decidedAt": "", "openedBy": "Person",
                        "items": "ReviewItem"},
    "ReviewItem": {"recommendation": "", "rationale": "", "plannedEndDate": "",
                   "decision": "", "ruling": "", "explanation": "",
                   "evidence": "ReviewEvidence", "votes": "ReviewVote", "service": "Service",
                   "successor": "Service", "proposal": "Service"},
    "ReviewVote": {"decision": "", "comment": "", "castAt": "", "voter": "Person"},
    "ReviewEvidence": {"health": "", "healthExplanation": "", "kpis": "KpiEvidence",
                       "cost": "", "budget": "", "budgetVariance": "", "recovered": "",
                       "costRecovery": "", "usageTrend": "MonthUsage",
                       "openEngagements": "", "customersAffected": ""},
    "KpiEvidence": {"name": "", "unit": "", "target": "", "value": "", "period": "",
                    "status": "", "explanation": ""},
    "MonthUsage": {"period": "", "quantity": "", "customers": ""},
}

#: The finance reports the plan answers (``planned.reports``): per field of ``Reports``,
#: the type of its rows; per row type, each field: ``""`` for a value, ``Money`` for an
#: amount, ``Service`` for the service a row names (read as planned rows).
REPORT_FIELDS: dict[str, str] = {"budgetVsActual": "BudgetVsActual",
                                 "investment": "InvestmentRow",
                                 "chargesPerCustomer": "CustomerCharges",
                                 "costRecovery": "CostRecovery"}
REPORT_TYPES: dict[str, dict[str, str]] = {
    "BudgetVsActual": {"rows": "VarianceRow", "total": "VarianceRow"},
    "VarianceRow": {"category": "", "period": "", "budget": "Money", "actual": "Money",
                    "variance": "Money", "variancePercent": "", "service": "Service"},
    "InvestmentRow": {"investmentCategory": "", "section": "", "services": "",
                      "estimatedCost": "Money", "expectedBenefit": "Money",
                      "budget": "Money", "actual": "Money"},
    "CustomerCharges": {"billed": "Money", "notional": "Money", "statements": ""},
    "CostRecovery": {"actualCost": "Money", "charged": "Money", "rate": "",
                     "service": "Service"},
}

#: What a ballot reads of the service (``rounds.build_ballot``), for open rounds.
BALLOT_SERVICE = frozenset({"organisation_id", "name", "investment_category",
                            "estimated_cost", "expected_benefit"})
#: Of those, the amounts: read in their stored form, handed to the rules as decimals.
BALLOT_AMOUNTS = frozenset({"estimated_cost", "expected_benefit"})

#: Fields of ``ApprovalRound``, worked out from the domain's round result.
APPROVAL_FIELDS = frozenset({"status", "openedAt", "closedAt", "decisionMakerCount", "votes",
                             "voteHistory", "verdicts", "__typename"})
RULE_VERDICT_FIELDS = frozenset({"rule", "plugin", "status", "explanation", "__typename"})
MONEY_FIELDS = frozenset({"amount", "currency", "__typename"})


@cache  # the registry is fixed: asked for each child relation of each request
def is_leaf_type(type_name: str) -> bool:
    """Whether rows of ``type_name`` show only their own columns (no relation read
    below them): such rows can be read by a join with the rows that point to them."""
    _, fields = TYPES[type_name]
    return not any(isinstance(shape, One | Many | ApprovalOf) for shape in fields.values())
