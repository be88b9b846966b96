"""The market: market spaces and segments, customers in segments, customer needs and what
meets them, offerings with service levels and price lists, the catalogue, and
subscriptions, whose price lists a charging run applies; every refusal's code."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org, Portfolio
from tests.test_batching import count_statements
from tests.test_finance_api import DRY_RUN, Books

ERRORS = "errors { code field message }"
CREATE_SPACE = """mutation($input: CreateMarketSpaceInput!) { createMarketSpace(input: $input) {
  marketSpace { id name description } """ + ERRORS + " } }"
UPDATE_SPACE = """mutation($input: UpdateMarketSpaceInput!) { updateMarketSpace(input: $input) {
  marketSpace { id name description } """ + ERRORS + " } }"
CREATE_SEGMENT = """mutation($input: CreateMarketSegmentInput!) {
  createMarketSegment(input: $input) {
    segment { id name needsSummary marketSpace { name } } """ + ERRORS + " } }"
UPDATE_SEGMENT = """mutation($input: UpdateMarketSegmentInput!) {
  updateMarketSegment(input: $input) {
    segment { id name needsSummary marketSpace { name } } """ + ERRORS + " } }"
SET_SEGMENT = """mutation($input: SetCustomerSegmentInput!) {
  setCustomerSegment(input: $input) { customer { name segment { name } } """ + ERRORS + " } }"
NEED_FIELDS = """id outcome importance segment { name } customer { name }
                 services { name } offerings { name }"""
RECORD_NEED = """mutation($input: RecordCustomerNeedInput!) {
  recordCustomerNeed(input: $input) { need { """ + NEED_FIELDS + " } " + ERRORS + " } }"
UPDATE_NEED = """mutation($input: UpdateCustomerNeedInput!) {
  updateCustomerNeed(input: $input) { need { """ + NEED_FIELDS + " } " + ERRORS + " } }"
LINK = """mutation($input: NeedLinkInput!) {
  linkNeed(input: $input) { need { """ + NEED_FIELDS + " } " + ERRORS + " } }"
UNLINK = """mutation($input: NeedLinkInput!) {
  unlinkNeed(input: $input) { need { """ + NEED_FIELDS + " } " + ERRORS + " } }"
OFFERING_FIELDS = """id name description segment { name } services { name stage }
  serviceLevels { name target unit service { name } kpi { name } }
  priceList { model parameters prices { name amount currency unit upTo } }
  subscriptions { startPeriod endPeriod customer { name } }"""
CREATE_OFFERING = """mutation($input: CreateOfferingInput!) {
  createOffering(input: $input) { offering { """ + OFFERING_FIELDS + " } " + ERRORS + " } }"
UPDATE_OFFERING = """mutation($input: UpdateOfferingInput!) {
  updateOffering(input: $input) { offering { """ + OFFERING_FIELDS + " } " + ERRORS + " } }"
PRICE = """mutation($input: SetOfferingPriceListInput!) {
  setOfferingPriceList(input: $input) { offering { """ + OFFERING_FIELDS + " } " + ERRORS \
    + " } }"
SUBSCRIBE = """mutation($input: SubscribeInput!) { subscribe(input: $input) {
  subscription { id startPeriod endPeriod customer { name } offering { name } } """ \
    + ERRORS + " } }"
UNSUBSCRIBE = """mutation($input: UnsubscribeInput!) { unsubscribe(input: $input) {
  subscription { id startPeriod endPeriod } """ + ERRORS + " } }"
DEFINE_KPI = """mutation($input: DefineKpiInput!) { defineKpi(input: $input) {
  kpi { id } """ + ERRORS + " } }"
MARKET = """{ marketSpaces { name segments { name customers { name } needs { outcome }
  offerings { name } } } }"""
UNMET = "{ unmetNeeds { outcome importance } }"
CATALOGUE = "{ catalogue { " + OFFERING_FIELDS + " } }"


class Market:
    """A portfolio manager's (and finance's) moves on the market over GraphQL."""

    def __init__(self, api: GraphQLClient, org: Org) -> None:
        self.api = api
        self.org = org

    async def call(self, query: str, variables: dict[str, Any],
                   role: Role = Role.PORTFOLIO_MANAGER) -> dict[str, Any]:
        data = await self.api.data(query, {"input": variables}, self.org.token(role))
        (payload,) = data.values()
        assert isinstance(payload, dict)
        return payload

    async def ok(self, query: str, variables: dict[str, Any],
                 role: Role = Role.PORTFOLIO_MANAGER) -> dict[str, Any]:
        payload = await self.call(query, variables, role)
        assert payload["errors"] == [], payload["errors"]
        return payload

    async def space(self, name: str) -> str:
        found: str = (await self.ok(CREATE_SPACE, {"name": name}))["marketSpace"]["id"]
        return found

    async def segment(self, space: str, name: str) -> str:
        found: str = (await self.ok(CREATE_SEGMENT, {"marketSpaceId": space, "name": name})
                      )["segment"]["id"]
        return found

    async def need(self, outcome: str, importance: int, **holder: str) -> str:
        found: str = (await self.ok(RECORD_NEED, {"outcome": outcome,
                                                  "importance": importance, **holder})
                      )["need"]["id"]
        return found

    async def offering(self, name: str, segment: str, services: list[str],
                       levels: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        found: dict[str, Any] = (await self.ok(CREATE_OFFERING, {
            "name": name, "segmentId": segment, "serviceIds": services,
            "serviceLevels": levels or []}))["offering"]
        return found

    async def read(self, query: str, role: Role = Role.VIEWER) -> dict[str, Any]:
        return await self.api.data(query, token=self.org.token(role))


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(error["code"], error["field"]) for error in payload["errors"]]


async def test_spaces_segments_and_customers_in_them(api: GraphQLClient, org: Org,
                                                     other_org: Org) -> None:
    market = Market(api, org)
    books = Books(api, org)
    workplace = await market.space("Workplace IT")
    renamed = await market.ok(UPDATE_SPACE, {"marketSpaceId": workplace,
                                             "description": "devices and desks"})
    assert renamed["marketSpace"]["description"] == "devices and desks"
    field = await market.segment(workplace, "Field staff")
    office = await market.segment(workplace, "Office staff")
    moved = await market.ok(UPDATE_SEGMENT, {"segmentId": office,
                                             "needsSummary": "hybrid work"})
    assert moved["segment"] == {"id": office, "name": "Office staff",
                                "needsSummary": "hybrid work",
                                "marketSpace": {"name": "Workplace IT"}}
    sales = await books.customer("Sales")
    await books.customer("Legal")
    placed = await market.ok(SET_SEGMENT, {"customerId": sales, "segmentId": field},
                             Role.FINANCE)
    assert placed["customer"] == {"name": "Sales", "segment": {"name": "Field staff"}}
    listed = await market.read(MARKET)
    assert listed["marketSpaces"] == [{"name": "Workplace IT", "segments": [
        {"name": "Field staff", "customers": [{"name": "Sales"}], "needs": [],
         "offerings": []},
        {"name": "Office staff", "customers": [], "needs": [], "offerings": []}]}]
    customers = await market.read("{ customers { name segment { name } } }")
    assert customers["customers"] == [{"name": "Legal", "segment": None},
                                      {"name": "Sales", "segment": {"name": "Field staff"}}]
    out = await market.ok(SET_SEGMENT, {"customerId": sales}, Role.FINANCE)
    assert out["customer"]["segment"] is None

    # Refusals, each with its code; nothing written.
    assert codes(await market.call(CREATE_SPACE, {"name": "Workplace IT"})) == [
        ("CONFLICT", "name")]
    assert codes(await market.call(CREATE_SPACE, {"name": "Cloud"}, Role.VIEWER)) == [
        ("FORBIDDEN", None)]
    assert codes(await market.call(CREATE_SPACE, {"name": "Cloud"}, Role.FINANCE)) == [
        ("FORBIDDEN", None)]
    theirs = await Market(api, other_org).space("Globex space")
    their_segment = await Market(api, other_org).segment(theirs, "Globex segment")
    assert codes(await market.call(CREATE_SEGMENT, {"marketSpaceId": theirs,
                                                    "name": "Planted"})) == [
        ("NOT_FOUND", "marketSpaceId")]
    assert codes(await market.call(SET_SEGMENT, {"customerId": sales,
                                                 "segmentId": their_segment},
                                   Role.FINANCE)) == [("NOT_FOUND", "segmentId")]
    assert codes(await market.call(SET_SEGMENT, {"customerId": sales,
                                                 "segmentId": workplace},
                                   Role.FINANCE)) == [("NOT_FOUND", "segmentId")]
    assert (await market.read(MARKET))["marketSpaces"][0]["segments"][0]["customers"] == []
    assert [space["name"] for space in
            (await Market(api, other_org).read(MARKET))["marketSpaces"]] == ["Globex space"]


async def test_needs_are_met_by_chartered_or_live_services_directly_or_by_offering(
        api: GraphQLClient, org: Org, portfolio: Portfolio) -> None:
    market = Market(api, org)
    books = Books(api, org)
    segment = await market.segment(await market.space("Workplace IT"), "Field staff")
    sales = await books.customer("Sales")
    laptops = await market.need("A laptop ready on day one", 5, segmentId=segment)
    printing = await market.need("Print from anywhere", 2, segmentId=segment)
    crm = await market.need("See every deal in one place", 4, customerId=sales)
    recorded = await market.ok(UPDATE_NEED, {"needId": printing, "importance": 3})
    assert recorded["need"]["importance"] == 3
    assert [need["outcome"] for need in (await market.read(UNMET))["unmetNeeds"]] == [
        "A laptop ready on day one", "See every deal in one place", "Print from anywhere"]

    proposal = (await portfolio.create("Print Cloud"))["id"]
    linked = await market.ok(LINK, {"needId": printing, "serviceId": proposal})
    assert linked["need"]["services"] == [{"name": "Print Cloud"}]
    again = await market.ok(LINK, {"needId": printing, "serviceId": proposal})
    assert again["need"]["services"] == [{"name": "Print Cloud"}]  # linked once
    live = await portfolio.live("Device Provisioning")
    await market.ok(LINK, {"needId": laptops, "serviceId": live})
    chartered = await portfolio.chartered("CRM")
    bundle = await market.offering("Sales bundle", segment, [chartered])
    await market.ok(LINK, {"needId": crm, "offeringId": bundle["id"]})
    # A proposal in DEFINITION meets nothing yet; the other two are met.
    assert (await market.read(UNMET))["unmetNeeds"] == [
        {"outcome": "Print from anywhere", "importance": 3}]
    segment_needs = await market.read(
        "{ customers { needs { outcome customer { name } offerings { name } } } }")
    assert segment_needs["customers"] == [{"needs": [{
        "outcome": "See every deal in one place", "customer": {"name": "Sales"},
        "offerings": [{"name": "Sales bundle"}]}]}]
    unlinked = await market.ok(UNLINK, {"needId": laptops, "serviceId": live})
    assert unlinked["need"]["services"] == []
    assert [need["outcome"] for need in (await market.read(UNMET))["unmetNeeds"]] == [
        "A laptop ready on day one", "Print from anywhere"]

    # Refusals.
    assert codes(await market.call(RECORD_NEED, {"outcome": "x", "importance": 6,
                                                 "segmentId": segment})) == [
        ("VALIDATION", "importance")]
    assert codes(await market.call(UPDATE_NEED, {"needId": crm, "importance": 0})) == [
        ("VALIDATION", "importance")]
    assert codes(await market.call(RECORD_NEED, {"outcome": "x", "importance": 3,
                                                 "segmentId": segment,
                                                 "customerId": sales})) == [
        ("VALIDATION", "segmentId")]
    assert codes(await market.call(RECORD_NEED, {"outcome": "x", "importance": 3,
                                                 "segmentId": sales})) == [
        ("NOT_FOUND", "segmentId")]
    assert codes(await market.call(RECORD_NEED, {"outcome": "x", "importance": 3,
                                                 "segmentId": segment}, Role.VIEWER)) == [
        ("FORBIDDEN", None)]
    assert codes(await market.call(UNLINK, {"needId": laptops, "serviceId": live})) == [
        ("NOT_FOUND", "serviceId")]
    assert len((await market.read("{ customerNeeds { id } }"))["customerNeeds"]) == 3


async def test_offerings_with_service_levels_price_lists_and_the_catalogue(
        api: GraphQLClient, org: Org, portfolio: Portfolio) -> None:
    market = Market(api, org)
    segment = await market.segment(await market.space("Workplace IT"), "Field staff")
    desk = await portfolio.live("Service Desk")
    kpi = await market.ok(DEFINE_KPI, {
        "serviceId": desk, "name": "Availability", "unit": "%", "direction": "HIGHER_IS_BETTER",
        "target": "99.5", "warningThreshold": "99", "breachThreshold": "98"})
    devices = await portfolio.live("Device Provisioning")
    created = await market.offering("Field kit", segment, [desk, devices], [
        {"serviceId": desk, "kpiId": kpi["kpi"]["id"], "target": "99.9"},
        {"serviceId": devices, "name": "Laptop delivered", "target": "2", "unit": "days"}])
    assert created["services"] == [{"name": "Service Desk", "stage": "LIVE"},
                                   {"name": "Device Provisioning", "stage": "LIVE"}]
    assert created["serviceLevels"] == [
        {"name": "Availability", "target": "99.9000", "unit": "%",
         "service": {"name": "Service Desk"}, "kpi": {"name": "Availability"}},
        {"name": "Laptop delivered", "target": "2.0000", "unit": "days",
         "service": {"name": "Device Provisioning"}, "kpi": None}]
    assert created["priceList"] is None
    # A free name that is one of the service's KPIs is that KPI, with its target.
    by_name = await market.ok(UPDATE_OFFERING, {
        "offeringId": created["id"],
        "serviceLevels": [{"serviceId": desk, "name": "Availability"}]})
    assert by_name["offering"]["serviceLevels"] == [
        {"name": "Availability", "target": "99.5000", "unit": "%",
         "service": {"name": "Service Desk"}, "kpi": {"name": "Availability"}}]

    priced = await market.ok(PRICE, {"offeringId": created["id"], "model": "price_per_unit",
                                      "parameters": {"unit_price": 12.5, "unit": "seat"}},
                             Role.FINANCE)
    assert priced["offering"]["priceList"] == {
        "model": "price_per_unit", "parameters": {"unit_price": "12.5", "unit": "seat"},
        "prices": [{"name": "unit_price", "amount": "12.5", "currency": "EUR",
                    "unit": "seat", "upTo": None}]}
    tiered = await market.ok(PRICE, {"offeringId": created["id"], "model": "tiered",
                                     "parameters": {"unit": "GB", "tiers": [
                                         {"up_to": "100", "unit_price": "0.10"},
                                         {"up_to": None, "unit_price": "0.08"}]}},
                             Role.FINANCE)
    assert tiered["offering"]["priceList"]["prices"] == [
        {"name": "tiers.0", "amount": "0.10", "currency": "EUR", "unit": "GB",
         "upTo": "100"},
        {"name": "tiers.1", "amount": "0.08", "currency": "EUR", "unit": "GB",
         "upTo": None}]
    plus = await market.ok(PRICE, {"offeringId": created["id"], "model": "cost_plus",
                                   "parameters": {"markup_percent": "7.5"}})
    assert plus["offering"]["priceList"]["prices"] == [
        {"name": "markup_percent", "amount": "7.5", "currency": None, "unit": "percent",
         "upTo": None}]

    pipeline = await portfolio.create("Print Cloud")
    await market.offering("Print pack", segment, [devices, pipeline["id"]])
    catalogue = (await market.read(CATALOGUE))["catalogue"]
    assert [offering["name"] for offering in catalogue] == ["Field kit"]
    assert catalogue[0]["priceList"]["model"] == "cost_plus"
    assert [o["name"] for o in (await market.read("{ offerings { name } }"))["offerings"]
            ] == ["Field kit", "Print pack"]
    offered = await market.api.data("query($id: ID!) { service(id: $id) { offerings { "
                                    "name } } }", {"id": devices},
                                    org.token(Role.VIEWER))
    assert offered["service"]["offerings"] == [{"name": "Field kit"}, {"name": "Print pack"}]

    # Refusals, each with its code; nothing written.
    assert codes(await market.call(CREATE_OFFERING, {
        "name": "Empty", "segmentId": segment, "serviceIds": []})) == [
        ("VALIDATION", "serviceIds")]
    assert codes(await market.call(CREATE_OFFERING, {
        "name": "Field kit", "segmentId": segment, "serviceIds": [desk]})) == [
        ("CONFLICT", "name")]
    assert codes(await market.call(CREATE_OFFERING, {
        "name": "Other", "segmentId": desk, "serviceIds": [desk]})) == [
        ("NOT_FOUND", "segmentId")]
    assert codes(await market.call(CREATE_OFFERING, {
        "name": "Other", "segmentId": segment, "serviceIds": [desk],
        "serviceLevels": [{"serviceId": devices, "name": "x", "target": "1",
                           "unit": "h"}]})) == [("VALIDATION", "serviceLevels.0.serviceId")]
    assert codes(await market.call(CREATE_OFFERING, {
        "name": "Other", "segmentId": segment, "serviceIds": [desk],
        "serviceLevels": [{"serviceId": desk, "name": "Response"}]})) == [
        ("VALIDATION", "serviceLevels.0.name")]
    assert codes(await market.call(CREATE_OFFERING, {
        "name": "Other", "segmentId": segment, "serviceIds": [desk],
        "serviceLevels": [{"serviceId": desk, "name": "Response", "unit": "h",
                           "target": "0.12345"}]})) == [
        ("VALIDATION", "serviceLevels.0.target")]
    assert codes(await market.call(PRICE, {"offeringId": created["id"],
                                           "model": "price_per_unit",
                                           "parameters": {"unit_prise": "1"}},
                                   Role.FINANCE)) == [("VALIDATION", "parameters")]
    assert codes(await market.call(PRICE, {"offeringId": created["id"],
                                           "model": "fixed_price",
                                           "parameters": {"price": "lots"}},
                                   Role.FINANCE)) == [("VALIDATION", "parameters")]
    assert codes(await market.call(PRICE, {"offeringId": created["id"], "model": "no_such",
                                           "parameters": {}}, Role.FINANCE))[0][0] == \
        "VALIDATION"
    assert codes(await market.call(PRICE, {"offeringId": created["id"], "model": "none"},
                                   Role.CONTRIBUTOR)) == [("FORBIDDEN", None)]
    assert codes(await market.call(CREATE_OFFERING, {
        "name": "Other", "segmentId": segment, "serviceIds": [desk]}, Role.FINANCE)) == [
        ("FORBIDDEN", None)]
    after = (await market.read(CATALOGUE))["catalogue"]
    assert after == catalogue


async def _charges(api: GraphQLClient, org: Org, period: str) -> dict[tuple[str, str], str]:
    run = (await api.data(DRY_RUN, {"period": period}, org.token(Role.FINANCE)))["chargingRun"]
    return {(statement["customer"]["name"], line["service"]["name"]): line["amount"]["amount"]
            for statement in run["statements"] for line in statement["lines"]}


async def test_subscribers_are_charged_by_the_offerings_price_list(
        api: GraphQLClient, org: Org, portfolio: Portfolio) -> None:
    market = Market(api, org)
    books = Books(api, org)
    segment = await market.segment(await market.space("Workplace IT"), "Field staff")
    storage = (await portfolio.create("Storage"))["id"]
    hosting = (await portfolio.create("Hosting"))["id"]
    backup = (await portfolio.create("Backup"))["id"]  # a cost centre: no policy
    assert (await books.policy(storage, "price_per_unit", {"unit_price": "0.10"}))[
        "errors"] == []
    assert (await books.policy(hosting, "cost_recovery", {}))["errors"] == []
    sales, legal = await books.customer("Sales"), await books.customer("Legal")
    for month in ("2026-02", "2026-03", "2026-04"):
        await books.usage(sales, storage, month, "100")
        await books.usage(legal, storage, month, "50")
        await books.usage(sales, hosting, month, "10")
        await books.usage(legal, hosting, month, "20")
        await books.usage(sales, backup, month, "1")
        await books.usage(legal, backup, month, "1")
        await books.cost(hosting, f"{month}-10", "90.00")
    plan = await market.offering("Field storage", segment, [storage, hosting, backup])
    await market.ok(PRICE, {"offeringId": plan["id"], "model": "cost_plus",
                            "parameters": {"markup_percent": "10"}}, Role.FINANCE)
    flat = await market.offering("Flat storage", segment, [storage])
    await market.ok(PRICE, {"offeringId": flat["id"], "model": "fixed_price",
                            "parameters": {"price": "7.25"}}, Role.FINANCE)
    unpriced = await market.offering("Unpriced", segment, [storage])

    before = await _charges(api, org, "2026-03")
    subscribed = await market.ok(SUBSCRIBE, {"customerId": sales, "offeringId": plan["id"],
                                             "startPeriod": "2026-03"}, Role.FINANCE)
    assert subscribed["subscription"]["offering"] == {"name": "Field storage"}
    await market.ok(SUBSCRIBE, {"customerId": legal, "offeringId": flat["id"],
                                "startPeriod": "2026-03", "endPeriod": "2026-03"})
    await market.ok(SUBSCRIBE, {"customerId": legal, "offeringId": unpriced["id"],
                                "startPeriod": "2026-01"})

    # Before anyone subscribed: each service's own policy; the cost centre charges none.
    assert before == {("Sales", "Storage"): "10.00", ("Legal", "Storage"): "5.00",
                      ("Sales", "Hosting"): "30.00", ("Legal", "Hosting"): "60.00"}
    # 2026-02: no subscription has started; the same charges.
    assert await _charges(api, org, "2026-02") == before
    # 2026-03: Sales takes all three under cost plus 10 % (99.00 shared by usage over
    # everyone: storage has no cost, so nothing; hosting 10 of 30 → 33.00; backup has no
    # cost either); Legal takes storage at the flat price and hosting by its policy.
    assert await _charges(api, org, "2026-03") == {
        ("Sales", "Hosting"): "33.00", ("Legal", "Storage"): "7.25",
        ("Legal", "Hosting"): "60.00"}
    # 2026-04: Legal's flat subscription has ended; the unpriced one changes nothing.
    assert await _charges(api, org, "2026-04") == {
        ("Sales", "Hosting"): "33.00", ("Legal", "Storage"): "5.00",
        ("Legal", "Hosting"): "60.00"}

    ended = await market.ok(UNSUBSCRIBE, {"subscriptionId": subscribed["subscription"]["id"],
                                          "endPeriod": "2026-03"}, Role.FINANCE)
    assert ended["subscription"]["endPeriod"] == "2026-03"
    assert await _charges(api, org, "2026-04") == before
    listed = await market.read("{ customers { name subscriptions { startPeriod endPeriod "
                               "offering { name } } } }")
    assert listed["customers"] == [
        {"name": "Legal", "subscriptions": [
            {"startPeriod": "2026-03", "endPeriod": "2026-03",
             "offering": {"name": "Flat storage"}},
            {"startPeriod": "2026-01", "endPeriod": None, "offering": {"name": "Unpriced"}}]},
        {"name": "Sales", "subscriptions": [
            {"startPeriod": "2026-03", "endPeriod": "2026-03",
             "offering": {"name": "Field storage"}}]}]

    # Refusals.
    assert codes(await market.call(SUBSCRIBE, {"customerId": legal, "offeringId": flat["id"],
                                               "startPeriod": "2026-01"})) == [
        ("CONFLICT", "offeringId")]
    assert codes(await market.call(SUBSCRIBE, {"customerId": legal,
                                               "offeringId": unpriced["id"],
                                               "startPeriod": "2027-01"})) == [
        ("CONFLICT", "offeringId")]
    assert codes(await market.call(SUBSCRIBE, {"customerId": sales, "offeringId": flat["id"],
                                               "startPeriod": "2026-05",
                                               "endPeriod": "2026-04"})) == [
        ("VALIDATION", "endPeriod")]
    assert codes(await market.call(SUBSCRIBE, {"customerId": sales, "offeringId": flat["id"],
                                               "startPeriod": "May"})) == [
        ("VALIDATION", "startPeriod")]
    assert codes(await market.call(SUBSCRIBE, {"customerId": sales, "offeringId": flat["id"],
                                               "startPeriod": "2026-05"}, Role.VIEWER)) == [
        ("FORBIDDEN", None)]
    assert codes(await market.call(UNSUBSCRIBE, {
        "subscriptionId": subscribed["subscription"]["id"], "endPeriod": "2026-02"})) == [
        ("VALIDATION", "endPeriod")]
    # A later subscription to the same offering, after the first ended, is accepted.
    again = await market.ok(SUBSCRIBE, {"customerId": legal, "offeringId": flat["id"],
                                        "startPeriod": "2026-04"})
    assert again["subscription"]["startPeriod"] == "2026-04"


async def test_market_reads_are_batched(api: GraphQLClient, org: Org, portfolio: Portfolio,
                                        db: AsyncEngine) -> None:
    market = Market(api, org)
    books = Books(api, org)
    segment = await market.segment(await market.space("Workplace IT"), "Field staff")
    query = ("{ catalogue { " + OFFERING_FIELDS + " } marketSpaces { segments { "
             "customers { name segment { name } } needs { services { name } "
             "offerings { name } } offerings { name } } } }")

    async def grow(index: int) -> None:
        service = await portfolio.live(f"Service {index}")
        customer = await books.customer(f"Customer {index}")
        await market.ok(SET_SEGMENT, {"customerId": customer, "segmentId": segment})
        offering = await market.offering(f"Offering {index}", segment, [service], [
            {"serviceId": service, "name": "Uptime", "target": "99", "unit": "%"}])
        await market.ok(PRICE, {"offeringId": offering["id"], "model": "fixed_price",
                                "parameters": {"price": "10"}})
        await market.ok(SUBSCRIBE, {"customerId": customer, "offeringId": offering["id"],
                                    "startPeriod": "2026-01"})
        need = await market.need(f"Need {index}", 3, segmentId=segment)
        await market.ok(LINK, {"needId": need, "serviceId": service})
        await market.ok(LINK, {"needId": need, "offeringId": offering["id"]})

    async def statements() -> tuple[int, dict[str, Any]]:
        with count_statements(db) as seen:
            found = await market.read(query)
        return len(seen), found

    await grow(0)
    small, found = await statements()
    assert len(found["catalogue"]) == 1
    for index in range(1, 5):
        await grow(index)
    large, found = await statements()
    assert len(found["catalogue"]) == 5
    assert found["catalogue"][4]["subscriptions"] == [
        {"startPeriod": "2026-01", "endPeriod": None, "customer": {"name": "Customer 4"}}]
    assert large == small
