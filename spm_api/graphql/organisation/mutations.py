"""Organisation mutations: the books' currency and fiscal year."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from spm_api.domain import tenancy
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.nodes import as_node
from spm_api.graphql.core.permissions import AUTHENTICATED
from spm_api.graphql.core.unit_of_work import run_mutation
from spm_api.graphql.organisation.inputs import UpdateOrganisationSettingsInput
from spm_api.graphql.organisation.payloads import OrganisationPayload
from spm_api.graphql.portfolio.types import OrganisationNode


@strawberry.type
class OrganisationMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED,
                         description="Set the organisation's currency and fiscal year start "
                                     "(admins).")
    async def update_organisation_settings(
        self, info: Info[Context, None], input: UpdateOrganisationSettingsInput
    ) -> OrganisationPayload:
        organisation, errors = await run_mutation(
            info,
            lambda session, actor: tenancy.update_finance_settings(
                session, actor, currency=input.currency,
                fiscal_year_start_month=input.fiscal_year_start_month),
        )
        return OrganisationPayload(organisation=as_node(OrganisationNode, organisation),
                                   errors=errors)
