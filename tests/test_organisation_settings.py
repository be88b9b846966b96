"""An organisation's finance settings: the currency its books are kept in and the
month its fiscal year starts, set by admins."""

from __future__ import annotations

from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org

UPDATE = """
mutation($input: UpdateOrganisationSettingsInput!) {
  updateOrganisationSettings(input: $input) {
    organisation { currency fiscalYearStartMonth }
    errors { code field message }
  }
}"""

READ = "{ viewer { organisation { currency fiscalYearStartMonth } } }"


async def test_defaults_then_an_admin_changes_them(api: GraphQLClient, org: Org) -> None:
    before = await api.data(READ, token=org.token(Role.VIEWER))
    assert before["viewer"]["organisation"] == {"currency": "EUR", "fiscalYearStartMonth": 1}
    changed = await api.data(UPDATE, {"input": {"currency": "gbp", "fiscalYearStartMonth": 4}},
                             org.token(Role.ADMIN))
    assert changed["updateOrganisationSettings"] == {
        "organisation": {"currency": "GBP", "fiscalYearStartMonth": 4}, "errors": []}
    after = await api.data(READ, token=org.token(Role.FINANCE))
    assert after["viewer"]["organisation"] == {"currency": "GBP", "fiscalYearStartMonth": 4}


async def test_bad_settings_and_non_admins_are_refused(api: GraphQLClient, org: Org,
                                                       other_org: Org) -> None:
    admin = org.token(Role.ADMIN)
    for bad, field in (({"currency": "EURO"}, "currency"),
                       ({"fiscalYearStartMonth": 13}, "fiscalYearStartMonth")):
        data = await api.data(UPDATE, {"input": bad}, admin)
        [error] = data["updateOrganisationSettings"]["errors"]
        assert (error["code"], error["field"]) == ("VALIDATION", field)
    finance = await api.data(UPDATE, {"input": {"currency": "USD"}}, org.token(Role.FINANCE))
    assert [e["code"] for e in finance["updateOrganisationSettings"]["errors"]] == [
        "FORBIDDEN"]
    await api.data(UPDATE, {"input": {"currency": "JPY"}}, other_org.token(Role.ADMIN))
    mine = await api.data(READ, token=org.token(Role.VIEWER))
    assert mine["viewer"]["organisation"]["currency"] == "EUR"


async def test_the_currency_is_fixed_once_amounts_are_recorded(
        api: GraphQLClient, org: Org) -> None:
    admin = org.token(Role.ADMIN)
    created = await api.data("""mutation { createService(input: {name: "Hosting",
        investmentCategory: RUN, estimatedCost: {amount: "1000", currency: "EUR"}}) {
        errors { code } } }""", token=org.token(Role.CONTRIBUTOR))
    assert created["createService"]["errors"] == []
    refused = await api.data(UPDATE, {"input": {"currency": "USD"}}, admin)
    [error] = refused["updateOrganisationSettings"]["errors"]
    assert (error["code"], error["field"]) == ("CONFLICT", "currency")
    assert "EUR" in error["message"]
    same = await api.data(UPDATE, {"input": {"currency": "eur", "fiscalYearStartMonth": 7}},
                          admin)
    assert same["updateOrganisationSettings"]["errors"] == []
    after = await api.data(READ, token=org.token(Role.VIEWER))
    assert after["viewer"]["organisation"] == {"currency": "EUR", "fiscalYearStartMonth": 7}
