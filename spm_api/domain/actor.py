"""Who is acting, and what their roles allow."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from spm_api.vocabulary.enums import Role
from spm_api.vocabulary.errors import ErrorCode, fail


class Permission(StrEnum):
    EDIT_SERVICE = "EDIT_SERVICE"
    GIVE_INPUT = "GIVE_INPUT"
    ASSESS_REQUIREMENT = "ASSESS_REQUIREMENT"
    TRANSITION_SERVICE = "TRANSITION_SERVICE"
    ADMINISTER = "ADMINISTER"
    VOTE = "VOTE"
    AFFIRM = "AFFIRM"
    MANAGE_FINANCE = "MANAGE_FINANCE"
    MANAGE_CUSTOMERS = "MANAGE_CUSTOMERS"
    MANAGE_SOURCING = "MANAGE_SOURCING"
    MANAGE_KPIS = "MANAGE_KPIS"
    MANAGE_STAKEHOLDERS = "MANAGE_STAKEHOLDERS"
    MANAGE_RISKS = "MANAGE_RISKS"
    MANAGE_STRATEGY = "MANAGE_STRATEGY"
    RECORD_BENEFITS = "RECORD_BENEFITS"
    SET_DISCOUNT_RATE = "SET_DISCOUNT_RATE"
    MANAGE_MARKET = "MANAGE_MARKET"
    MANAGE_PRICES = "MANAGE_PRICES"


#: Everyone with a stake in a proposal: all roles but the read-only viewer.
STAKEHOLDERS = frozenset(
    {Role.CONTRIBUTOR, Role.DECISION_MAKER, Role.PORTFOLIO_MANAGER, Role.FINANCE, Role.ADMIN}
)

#: Which roles grant which permission. Every role may read its organisation.
GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.EDIT_SERVICE: frozenset(
        {Role.CONTRIBUTOR, Role.PORTFOLIO_MANAGER, Role.ADMIN}
    ),
    Permission.GIVE_INPUT: STAKEHOLDERS,
    Permission.ASSESS_REQUIREMENT: frozenset({Role.PORTFOLIO_MANAGER, Role.ADMIN}),
    Permission.TRANSITION_SERVICE: frozenset({Role.PORTFOLIO_MANAGER, Role.ADMIN}),
    Permission.ADMINISTER: frozenset({Role.ADMIN}),
    Permission.VOTE: frozenset({Role.DECISION_MAKER}),
    Permission.AFFIRM: STAKEHOLDERS,
    #: Budgets, costs, usage, charging policies, statements and period closing.
    Permission.MANAGE_FINANCE: frozenset({Role.FINANCE, Role.ADMIN}),
    Permission.MANAGE_CUSTOMERS: frozenset({Role.FINANCE, Role.PORTFOLIO_MANAGER, Role.ADMIN}),
    #: The contractor registry, and engagements that failed or were answered offline.
    Permission.MANAGE_SOURCING: frozenset({Role.PORTFOLIO_MANAGER, Role.ADMIN}),
    #: Live services' KPIs, their measurements, and pulling them from sources.
    Permission.MANAGE_KPIS: frozenset({Role.PORTFOLIO_MANAGER, Role.ADMIN}),
    #: Who is registered as a stakeholder of a service, and the reports they are given.
    Permission.MANAGE_STAKEHOLDERS: frozenset({Role.PORTFOLIO_MANAGER, Role.ADMIN}),
    #: A service's risk register: raising, updating and closing risks.
    Permission.MANAGE_RISKS: frozenset({Role.CONTRIBUTOR, Role.PORTFOLIO_MANAGER, Role.ADMIN}),
    #: Strategic objectives, services' alignment to them, the target investment mix.
    Permission.MANAGE_STRATEGY: frozenset({Role.PORTFOLIO_MANAGER, Role.ADMIN}),
    #: The benefits a live service realised, year by year.
    Permission.RECORD_BENEFITS: frozenset({Role.FINANCE, Role.PORTFOLIO_MANAGER, Role.ADMIN}),
    #: The rate business cases are discounted at.
    Permission.SET_DISCOUNT_RATE: frozenset({Role.FINANCE, Role.ADMIN}),
    #: Market spaces, segments, customer needs and service offerings.
    Permission.MANAGE_MARKET: frozenset({Role.PORTFOLIO_MANAGER, Role.ADMIN}),
    #: Offerings' price lists and customers' subscriptions to offerings.
    Permission.MANAGE_PRICES: frozenset({Role.FINANCE, Role.PORTFOLIO_MANAGER, Role.ADMIN}),
}


@dataclass(frozen=True, slots=True)
class Actor:
    """An authenticated person acting inside their own organisation."""

    person_id: int
    organisation_id: int
    roles: frozenset[Role]

    @classmethod
    def operator(cls, organisation_id: int) -> Actor:
        """Whoever runs the ``spm-api`` command against the database: an admin of the
        organisation who is no person in it (no person has id 0)."""
        return cls(person_id=0, organisation_id=organisation_id, roles=frozenset({Role.ADMIN}))

    def can(self, permission: Permission) -> bool:
        return not self.roles.isdisjoint(GRANTS[permission])

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            allowed = ", ".join(sorted(GRANTS[permission]))
            raise fail(
                ErrorCode.FORBIDDEN,
                f"{permission.value.replace('_', ' ').lower()} needs one of these roles: {allowed}",
            )
