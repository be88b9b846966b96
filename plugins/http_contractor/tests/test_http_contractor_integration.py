"""The http_json contractor integration against a real HTTP contractor system on a
loopback port (``http_contractor_server``): no mocking of httpx. Run with
``pytest plugins/http_contractor``."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, distribution, entry_points
from typing import Any

import pluggy
import pytest
import spm_http_contractor
from http_contractor_server import Behaviour, ContractorServer
from spm_http_contractor import (
    DEFAULT_TIMEOUT_SECONDS,
    INTEGRATION_NAME,
    ContractorError,
    ContractorSettings,
    cancel_engagement,
    parse_settings,
    request_quote,
    send_engagement,
    spm_contractor_integrations,
    validate_settings,
)

from spm_api.plugins import (
    CancellationReceipt,
    CancellationRequest,
    ContractorIntegration,
    EngagementReceipt,
    EngagementRequest,
    PluginSettingsError,
    QuoteOffer,
    QuoteRequest,
)
from spm_api.plugins.contracts import (
    CONTRACTOR_INTEGRATIONS,
    REQUEST_QUOTE,
    SEND_ENGAGEMENT,
    VALIDATE_CONTRACTOR_SETTINGS,
)

KEY = "9f0c2d7e4b1a4c3e8d6f5a4b3c2d1e0f"


def installed() -> bool:
    try:
        distribution("spm-http-contractor")
    except PackageNotFoundError:
        return False
    return True


needs_installing = pytest.mark.skipif(
    not installed(),
    reason="the spm-http-contractor distribution is not installed, so its entry point "
           "cannot load: run `pip install -e plugins/http_contractor` (make install does)")


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx honours proxy variables; the contractor here is on the loopback."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def contractor() -> Iterator[ContractorServer]:
    server = ContractorServer().start()
    try:
        yield server
    finally:
        server.close()


def settings_of(server: ContractorServer, **changes: Any) -> dict[str, Any]:
    return {"base_url": server.base_url, "token": "secret", "timeout_seconds": 5, **changes}


def engagement(server: ContractorServer, key: str = KEY, *,
               estimated_cost: Decimal | None = Decimal("12500.00"),
               **settings: Any) -> EngagementRequest:
    return EngagementRequest(
        idempotency_key=key, organisation_id=3, service_id=42, service_name="Cloud hosting",
        capability="Managed Kubernetes", description="Three clusters, 24/7 support",
        contractor_settings=settings_of(server, **settings), estimated_cost=estimated_cost,
        currency="EUR")


def quote_request(server: ContractorServer, currency: str = "EUR",
                  **settings: Any) -> QuoteRequest:
    return QuoteRequest(
        organisation_id=3, service_id=42, service_name="Cloud hosting",
        capability="Managed Kubernetes", description="Three clusters, 24/7 support",
        currency=currency, contractor_settings=settings_of(server, **settings))


def cancellation(server: ContractorServer, key: str = KEY, **settings: Any
                 ) -> CancellationRequest:
    return CancellationRequest(
        idempotency_key=key, organisation_id=3, service_id=42, service_name="Cloud hosting",
        capability="Managed Kubernetes", reason="the programme was stopped",
        contractor_reference="E-1", contractor_settings=settings_of(server, **settings))


# --- engagements -----------------------------------------------------------------------


async def test_sends_the_engagement_and_returns_the_receipt(
        contractor: ContractorServer) -> None:
    receipt = await send_engagement(engagement(contractor))

    assert receipt == EngagementReceipt(reference="E-1", decision="RECEIVED")
    assert list(contractor.engagements) == [KEY]
    assert contractor.engagements[KEY].body == {
        "idempotency_key": KEY, "organisation_id": 3, "service_id": 42,
        "service": "Cloud hosting", "capability": "Managed Kubernetes",
        "description": "Three clusters, 24/7 support", "estimated_cost": "12500.00",
        "currency": "EUR"}
    (request,) = contractor.requests
    assert (request.method, request.path) == ("POST", "/api/engagements")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"].startswith("spm-http-contractor")


@pytest.mark.parametrize(("status", "decision"), [
    ("received", "RECEIVED"), ("accepted", "ACCEPTED"), ("declined", "DECLINED")])
async def test_the_contractors_status_becomes_the_decision(
        contractor: ContractorServer, status: str, decision: str) -> None:
    contractor.status = status
    assert await send_engagement(engagement(contractor)) == EngagementReceipt("E-1", decision)


async def test_sends_the_idempotency_key_and_the_token(contractor: ContractorServer) -> None:
    contractor.required_token = "secret"
    await send_engagement(engagement(contractor))
    (request,) = contractor.requests
    assert request.headers["idempotency-key"] == KEY
    assert request.headers["authorization"] == "Bearer secret"


async def test_sends_no_authorization_without_a_token(contractor: ContractorServer) -> None:
    await send_engagement(engagement(contractor, token=None))
    (request,) = contractor.requests
    assert "authorization" not in request.headers
    assert request.headers["idempotency-key"] == KEY


async def test_a_wrong_token_is_refused_by_the_contractor(contractor: ContractorServer) -> None:
    contractor.required_token = "the-real-one"
    with pytest.raises(ContractorError, match=r"answered HTTP 401 Unauthorized: "
                                              r"'\{\"error\": \"unauthorised\"\}'"):
        await send_engagement(engagement(contractor))
    assert contractor.engagements == {}


@pytest.mark.parametrize(("estimated_cost", "sent"), [
    (None, None), (Decimal("1E+3"), "1000"), (Decimal("0.50"), "0.50")])
async def test_the_estimated_cost_is_a_plain_decimal_string(
        contractor: ContractorServer, estimated_cost: Decimal | None, sent: str | None) -> None:
    await send_engagement(engagement(contractor, estimated_cost=estimated_cost))
    assert contractor.engagements[KEY].body["estimated_cost"] == sent


async def test_a_repeat_under_the_same_key_is_one_engagement(
        contractor: ContractorServer) -> None:
    first = await send_engagement(engagement(contractor))
    contractor.status = "accepted"  # would change a new engagement's answer, not this one
    again = await send_engagement(engagement(contractor))

    assert again == first == EngagementReceipt("E-1", "RECEIVED")
    assert list(contractor.engagements) == [KEY]
    assert contractor.attempts(KEY) == 2

    other = await send_engagement(engagement(contractor, key="another-key"))
    assert other == EngagementReceipt("E-2", "ACCEPTED")
    assert list(contractor.engagements) == [KEY, "another-key"]


async def test_base_url_with_a_trailing_slash(contractor: ContractorServer) -> None:
    await send_engagement(engagement(contractor, base_url=contractor.base_url + "/"))
    assert [request.path for request in contractor.requests] == ["/api/engagements"]


# --- failures ----------------------------------------------------------------------------


async def test_a_server_error_raises_naming_the_status(contractor: ContractorServer) -> None:
    contractor.behaviour = Behaviour.ERROR
    with pytest.raises(ContractorError) as raised:
        await send_engagement(engagement(contractor))
    assert str(raised.value) == (
        f"POST {contractor.base_url}/engagements answered HTTP 500 Internal Server Error: "
        f"'Internal Server Error: database unavailable'")
    assert contractor.engagements == {}

    # The outbox tries again later under the same key: one engagement in the end.
    contractor.behaviour = Behaviour.NORMAL
    assert await send_engagement(engagement(contractor)) == EngagementReceipt("E-1")
    assert contractor.attempts(KEY) == 2
    assert list(contractor.engagements) == [KEY]


async def test_a_contractor_that_hangs_times_out(contractor: ContractorServer) -> None:
    contractor.behaviour = Behaviour.HANG
    contractor.hang_seconds = 2.0
    started = time.monotonic()
    with pytest.raises(ContractorError, match=(
            rf"^POST {contractor.base_url}/engagements did not answer within 0.5 s$")):
        await send_engagement(engagement(contractor, timeout_seconds=0.5))
    assert time.monotonic() - started < 1.5

    # The contractor took it before hanging: the retry finds it, nothing is doubled.
    contractor.behaviour = Behaviour.NORMAL
    assert await send_engagement(engagement(contractor)) == EngagementReceipt("E-1")
    assert contractor.attempts(KEY) == 2
    assert list(contractor.engagements) == [KEY]


async def test_a_contractor_that_is_down_raises(contractor: ContractorServer) -> None:
    port = contractor.port
    contractor.stop()
    with pytest.raises(ContractorError,
                       match=rf"^could not connect to {contractor.base_url}/engagements: "
                             r"Connection refused$"):
        await send_engagement(engagement(contractor))
    assert contractor.requests == []

    contractor.start()  # back, on the same port
    assert contractor.port == port
    assert await send_engagement(engagement(contractor)) == EngagementReceipt("E-1")
    assert contractor.attempts(KEY) == 1


async def test_an_answer_that_is_not_json_raises(contractor: ContractorServer) -> None:
    contractor.behaviour = Behaviour.GARBAGE
    with pytest.raises(ContractorError, match=(
            r"answered HTTP 200 OK with a body that is not JSON: "
            r"'<html><body>Bad Gateway</body></html>'")):
        await send_engagement(engagement(contractor))


@pytest.mark.parametrize(("answer", "message"), [
    pytest.param([{"reference": "E-1", "status": "received"}],
                 r"with JSON that is not an object", id="array"),
    pytest.param("received", r"with JSON that is not an object", id="string"),
    pytest.param({"ok": True}, r"has reference \(missing\); expected a non-empty string",
                 id="no-reference"),
    pytest.param({"reference": None, "status": "received"}, r"has reference null",
                 id="null-reference"),
    pytest.param({"reference": "  ", "status": "received"}, r"has reference '  '",
                 id="blank-reference"),
    pytest.param({"reference": 7, "status": "received"}, r"has reference 7",
                 id="numeric-reference"),
    pytest.param({"reference": "E" * 201, "status": "received"},
                 r"has a reference of 201 characters; at most 200 are kept",
                 id="long-reference"),
    pytest.param({"reference": "E-1"}, r"has status \(missing\); expected one of "
                 r"'received', 'accepted', 'declined'", id="no-status"),
    pytest.param({"reference": "E-1", "status": "pending"}, r"has status 'pending'",
                 id="unknown-status"),
    pytest.param({"reference": "E-1", "status": "ACCEPTED"}, r"has status 'ACCEPTED'",
                 id="upper-case-status"),
    pytest.param({"reference": "E-1", "status": True}, r"has status True",
                 id="boolean-status"),
])
async def test_an_answer_of_the_wrong_shape_raises(
        contractor: ContractorServer, answer: Any, message: str) -> None:
    contractor.behaviour = Behaviour.GARBAGE
    contractor.garbage, contractor.garbage_type = json.dumps(answer).encode(), "application/json"
    with pytest.raises(ContractorError, match=message) as raised:
        await send_engagement(engagement(contractor))
    assert f"{contractor.base_url}/engagements" in str(raised.value)


@pytest.mark.parametrize(("status", "body", "message"), [
    pytest.param(202, b'{"reference": "E-1", "status": "received"}',
                 r"answered HTTP 202 Accepted: '\{\"reference\"", id="202"),
    pytest.param(204, b"", r"answered HTTP 204 No Content: \(empty body\)", id="204"),
    pytest.param(307, b"moved", r"answered HTTP 307 Temporary Redirect: 'moved'",
                 id="redirect-not-followed"),
    pytest.param(503, b"x" * 5000, r"answered HTTP 503 Service Unavailable: 'x{200}…'$",
                 id="long-body-excerpt"),
    pytest.param(200, b"  ", r"with a body that is not JSON: \(empty body\)", id="blank"),
    pytest.param(200, b'{"reference": "E-1", "status": NaN}', r"not JSON", id="nan"),
    pytest.param(200, b"\xff\xfe\x00", r"not JSON", id="not-utf8"),
    pytest.param(200, b"[" * 100_000, r"not JSON: '\[{200}…'$", id="nested-too-deep"),
    pytest.param(200, b"[" * (1024 * 1024 + 10), r"answered HTTP 200 with more than 1 MiB; "
                 r"refused", id="too-long"),
])
async def test_other_answers_raise(contractor: ContractorServer, status: int, body: bytes,
                                   message: str) -> None:
    contractor.behaviour = Behaviour.GARBAGE
    contractor.garbage_status, contractor.garbage = status, body
    with pytest.raises(ContractorError, match=message):
        await send_engagement(engagement(contractor))


async def test_bad_settings_at_send_time_raise() -> None:
    request = EngagementRequest(
        idempotency_key=KEY, organisation_id=3, service_id=42, service_name="Cloud hosting",
        capability="Managed Kubernetes", description="", contractor_settings={})
    with pytest.raises(PluginSettingsError, match="base_url is required"):
        await send_engagement(request)


# --- quotes ------------------------------------------------------------------------------


async def test_asks_for_a_quote(contractor: ContractorServer) -> None:
    offer = await request_quote(quote_request(contractor))

    assert offer == QuoteOffer(amount=Decimal("1234.50"), reference="Q-1",
                               valid_until=date(2026, 12, 31))
    (request,) = contractor.requests
    assert (request.method, request.path) == ("POST", "/api/quotes")
    assert request.body == {"service": "Cloud hosting", "capability": "Managed Kubernetes",
                            "description": "Three clusters, 24/7 support", "currency": "EUR"}
    assert request.headers["authorization"] == "Bearer secret"
    assert "idempotency-key" not in request.headers
    assert contractor.engagements == {}


@pytest.mark.parametrize(("answer", "offer"), [
    pytest.param({"amount": "99.95", "currency": "EUR", "reference": "Q-7",
                  "valid_until": None}, QuoteOffer(Decimal("99.95"), "Q-7", None),
                 id="no-expiry"),
    pytest.param({"amount": "0", "currency": "EUR"}, QuoteOffer(Decimal(0), "", None),
                 id="free-no-reference"),
    pytest.param({"amount": 99.95, "currency": "EUR", "reference": None},
                 QuoteOffer(Decimal("99.95"), "", None), id="json-number-kept-exact"),
    pytest.param({"amount": 1500, "currency": "EUR", "reference": "Q-8", "extra": [1]},
                 QuoteOffer(Decimal(1500), "Q-8", None), id="integer-extra-keys-ignored"),
])
async def test_quote_answers_that_are_accepted(
        contractor: ContractorServer, answer: dict[str, Any], offer: QuoteOffer) -> None:
    contractor.quote = answer
    result = await request_quote(quote_request(contractor))
    assert result == offer
    assert str(result.amount) == str(offer.amount)


@pytest.mark.parametrize(("answer", "message"), [
    pytest.param({"amount": "1234.50", "currency": "USD"},
                 r"has currency 'USD', but the quote was asked in EUR", id="other-currency"),
    pytest.param({"amount": "1234.50"}, r"has currency \(missing\), but the quote was "
                 r"asked in EUR", id="no-currency"),
    pytest.param({"amount": "1234.50", "currency": "eur"}, r"has currency 'eur'",
                 id="lower-case-currency"),
    pytest.param({"currency": "EUR"}, r"has amount \(missing\); expected a decimal string "
                 r"such as \"1234.50\"", id="no-amount"),
    pytest.param({"amount": None, "currency": "EUR"}, r"has amount null", id="null-amount"),
    pytest.param({"amount": "about 1000", "currency": "EUR"}, r"has amount 'about 1000'",
                 id="words"),
    pytest.param({"amount": "1,234.50", "currency": "EUR"}, r"has amount '1,234.50'",
                 id="thousands-separator"),
    pytest.param({"amount": "1_000", "currency": "EUR"}, r"has amount '1_000'",
                 id="underscore"),
    pytest.param({"amount": "NaN", "currency": "EUR"}, r"has amount 'NaN'", id="nan"),
    pytest.param({"amount": "Infinity", "currency": "EUR"}, r"has amount 'Infinity'",
                 id="infinity"),
    pytest.param({"amount": "1e3", "currency": "EUR"}, r"has amount '1e3'", id="exponent"),
    pytest.param({"amount": True, "currency": "EUR"}, r"has amount True", id="boolean"),
    pytest.param({"amount": {"value": 1}, "currency": "EUR"}, r"has amount \{'value': 1\}",
                 id="object"),
    pytest.param({"amount": "-5", "currency": "EUR"}, r"has a negative amount, -5",
                 id="negative"),
    pytest.param({"amount": -0.01, "currency": "EUR"}, r"has a negative amount, -0.01",
                 id="negative-number"),
    pytest.param({"amount": "1000000000000", "currency": "EUR"},
                 r"has amount '1000000000000', which is too large", id="too-large"),
    pytest.param({"amount": 1e300, "currency": "EUR"}, r"which is too large",
                 id="too-large-number"),
    pytest.param({"amount": "1", "currency": "EUR", "valid_until": "31/12/2026"},
                 r"has valid_until '31/12/2026'; expected a date such as \"2026-12-31\" or "
                 r"null", id="foreign-date"),
    pytest.param({"amount": "1", "currency": "EUR", "valid_until": "2026-02-30"},
                 r"has valid_until '2026-02-30'", id="no-such-day"),
    pytest.param({"amount": "1", "currency": "EUR", "valid_until": "20261231"},
                 r"has valid_until '20261231'", id="basic-format"),
    pytest.param({"amount": "1", "currency": "EUR", "valid_until": "2026-12-31T00:00:00"},
                 r"has valid_until '2026-12-31T00:00:00'", id="datetime"),
    pytest.param({"amount": "1", "currency": "EUR", "valid_until": 20261231},
                 r"has valid_until 20261231", id="number-date"),
    pytest.param({"amount": "1", "currency": "EUR", "reference": 7},
                 r"has reference 7; expected a string or null", id="numeric-reference"),
])
async def test_quote_answers_that_are_refused(
        contractor: ContractorServer, answer: dict[str, Any], message: str) -> None:
    contractor.quote = answer
    with pytest.raises(ContractorError, match=message) as raised:
        await request_quote(quote_request(contractor))
    assert str(raised.value).startswith(f"the quote of {contractor.base_url}/quotes ")


async def test_quote_failures_raise(contractor: ContractorServer) -> None:
    contractor.behaviour = Behaviour.ERROR
    with pytest.raises(ContractorError, match=r"/quotes answered HTTP 500"):
        await request_quote(quote_request(contractor))
    contractor.behaviour = Behaviour.GARBAGE
    with pytest.raises(ContractorError, match=r"/quotes answered HTTP 200 OK with a body "
                                              r"that is not JSON"):
        await request_quote(quote_request(contractor))
    contractor.behaviour = Behaviour.HANG
    with pytest.raises(ContractorError, match=r"/quotes did not answer within 0.3 s"):
        await request_quote(quote_request(contractor, timeout_seconds=0.3))
    contractor.stop()
    with pytest.raises(ContractorError, match=r"^could not connect to .*/quotes: "):
        await request_quote(quote_request(contractor))


# --- settings ----------------------------------------------------------------------------


def test_parses_settings() -> None:
    assert parse_settings({"base_url": "https://contractor.example/api", "token": "secret",
                           "timeout_seconds": 10}) == ContractorSettings(
        base_url="https://contractor.example/api", token="secret", timeout_seconds=10.0)
    assert parse_settings({"base_url": "http://10.0.0.7:8080/"}) == ContractorSettings(
        base_url="http://10.0.0.7:8080", token=None, timeout_seconds=DEFAULT_TIMEOUT_SECONDS)
    assert parse_settings({"base_url": "HTTPS://contractor.example", "token": None,
                           "timeout_seconds": None}).timeout_seconds == 10.0
    assert parse_settings({"base_url": "https://c.example/api//"}).base_url == (
        "https://c.example/api")
    assert parse_settings({"base_url": "https://c.example", "timeout_seconds": 0.5}
                          ).timeout_seconds == 0.5
    assert parse_settings({"base_url": "https://c.example", "timeout_seconds": 60}
                          ).timeout_seconds == 60.0
    assert parse_settings({"base_url": "https://[::1]:8443/api"}).base_url == (
        "https://[::1]:8443/api")


def test_good_settings_are_accepted() -> None:
    validate_settings({"base_url": "https://contractor.example/api"})  # no error
    validate_settings({"base_url": "https://contractor.example/api", "token": "eyJ.a-b_c~+/="})


@pytest.mark.parametrize(("settings", "message"), [
    pytest.param({}, r"^base_url is required: the root of the contractor's API, such as "
                 r"\"https://contractor.example/api\"$", id="no-base-url"),
    pytest.param({"base_url": None}, r"base_url is required", id="null-base-url"),
    pytest.param({"base_url": ""}, r"base_url must be an http or https URL", id="empty"),
    pytest.param({"base_url": 42}, r"base_url must be an http or https URL, such as "
                 r"\"https://contractor.example/api\", not 42", id="number"),
    pytest.param({"base_url": "ftp://contractor.example"}, r"must be an http or https URL",
                 id="ftp"),
    pytest.param({"base_url": "contractor.example/api"}, r"must be an http or https URL",
                 id="no-scheme"),
    pytest.param({"base_url": "https://"}, r"base_url 'https://' names no host",
                 id="no-host"),
    pytest.param({"base_url": "https:///api"}, r"names no host", id="no-host-with-path"),
    pytest.param({"base_url": " https://contractor.example"}, r"must not contain spaces",
                 id="padded"),
    pytest.param({"base_url": "https://contractor.example/my api"},
                 r"must not contain spaces", id="inner-space"),
    pytest.param({"base_url": "https://contractor.example/\napi"},
                 r"must not contain spaces or control characters", id="newline"),
    pytest.param({"base_url": "https://contractor.example:99999"},
                 r"base_url 'https://contractor.example:99999' is not a valid URL",
                 id="bad-port"),
    pytest.param({"base_url": "https://ops:pw@contractor.example"},
                 r"must not carry a user name or password: put the contractor's credential "
                 r"in token", id="credentials"),
    pytest.param({"base_url": "https://contractor.example/api?key=1"},
                 r"must not have a query or a fragment", id="query"),
    pytest.param({"base_url": "https://contractor.example/api#top"},
                 r"must not have a query or a fragment", id="fragment"),
    pytest.param({"base_url": "https://contractor.example/api?"},
                 r"must not have a query or a fragment", id="empty-query"),
    pytest.param({"base_url": "https://c.example", "token": 42},
                 r"^token must be a string, not int$", id="numeric-token"),
    pytest.param({"base_url": "https://c.example", "token": ""},
                 r"token must not be empty: leave it out to send no token", id="empty-token"),
    pytest.param({"base_url": "https://c.example", "token": "two words"},
                 r"token must be printable ASCII without spaces", id="token-with-space"),
    pytest.param({"base_url": "https://c.example", "token": "s\u00e9cret"},
                 r"token must be printable ASCII", id="non-ascii-token"),
    pytest.param({"base_url": "https://c.example", "token": "secret\r\nX-Evil: 1"},
                 r"token must be printable ASCII", id="header-injection"),
    pytest.param({"base_url": "https://c.example", "timeout_seconds": 0},
                 r"^timeout_seconds must be more than 0 and at most 60, not 0$", id="zero"),
    pytest.param({"base_url": "https://c.example", "timeout_seconds": -1},
                 r"must be more than 0 and at most 60, not -1", id="negative"),
    pytest.param({"base_url": "https://c.example", "timeout_seconds": 60.5},
                 r"must be more than 0 and at most 60, not 60.5", id="over-60"),
    pytest.param({"base_url": "https://c.example", "timeout_seconds": float("nan")},
                 r"must be more than 0 and at most 60, not nan", id="nan"),
    pytest.param({"base_url": "https://c.example", "timeout_seconds": float("inf")},
                 r"must be more than 0 and at most 60, not inf", id="infinite"),
    pytest.param({"base_url": "https://c.example", "timeout_seconds": "10"},
                 r"timeout_seconds must be a number of seconds, such as 10, not '10'",
                 id="string"),
    pytest.param({"base_url": "https://c.example", "timeout_seconds": True},
                 r"timeout_seconds must be a number of seconds", id="boolean"),
    pytest.param({"base_url": "https://c.example", "timeout": 10},
                 r"^unknown setting 'timeout': the http_json integration reads only base_url, "
                 r"token and timeout_seconds$", id="unknown-key"),
    pytest.param({"url": "https://c.example"}, r"unknown setting 'url'", id="url-for-base-url"),
])
def test_bad_settings_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(PluginSettingsError, match=message):
        validate_settings(settings)


def test_the_token_stays_out_of_the_message() -> None:
    with pytest.raises(PluginSettingsError) as refused:
        validate_settings({"base_url": "https://c.example", "token": "hunter2 hunter2"})
    assert "hunter2" not in str(refused.value)


def test_settings_must_be_an_object() -> None:
    with pytest.raises(PluginSettingsError, match="the http_json settings must be an object, "
                                                  "not list"):
        validate_settings(["https://c.example"])  # type: ignore[arg-type]


# --- cancellations ---------------------------------------------------------------------


async def test_cancels_the_engagement_under_its_own_key(contractor: ContractorServer) -> None:
    await send_engagement(engagement(contractor))
    receipt = await cancel_engagement(cancellation(contractor))
    assert receipt == CancellationReceipt(reference="C-E-1")
    assert contractor.cancelled == [KEY]
    [request] = contractor.received("/cancellations")
    assert request.headers["idempotency-key"] == KEY
    assert request.headers["authorization"] == "Bearer secret"
    assert request.body == {
        "idempotency_key": KEY, "reference": "E-1", "organisation_id": 3, "service_id": 42,
        "service": "Cloud hosting", "capability": "Managed Kubernetes",
        "reason": "the programme was stopped"}
    # A repeat is answered the same and changes nothing on the contractor's side.
    assert await cancel_engagement(cancellation(contractor)) == receipt
    assert contractor.cancelled == [KEY]


async def test_a_cancellation_the_contractor_cannot_place_is_an_error(
        contractor: ContractorServer) -> None:
    with pytest.raises(ContractorError, match=r"answered HTTP 404 Not Found"):
        await cancel_engagement(cancellation(contractor, key="unknown"))


@pytest.mark.parametrize("body", [b'{"status": "received"}', b'{"reference": "C-1"}'])
async def test_a_cancellation_answer_without_cancelled_is_an_error(
        contractor: ContractorServer, body: bytes) -> None:
    contractor.behaviour = Behaviour.GARBAGE
    contractor.garbage, contractor.garbage_type = body, "application/json"
    with pytest.raises(ContractorError, match=r"expected 'cancelled'"):
        await cancel_engagement(cancellation(contractor))


# --- registration ----------------------------------------------------------------------


def test_registers_one_integration() -> None:
    integrations = spm_contractor_integrations()
    assert [integration.name for integration in integrations] == [INTEGRATION_NAME] == [
        "http_json"]
    integration = integrations[0]
    assert isinstance(integration, ContractorIntegration)
    assert integration.send_engagement is send_engagement
    assert integration.request_quote is request_quote
    assert integration.validate_settings is validate_settings
    assert integration.cancel_engagement is cancel_engagement


def test_the_module_is_a_valid_plugin() -> None:
    from spm_api.plugins import hookspecs

    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(spm_http_contractor, name="http_contractor")
    manager.check_pending()
    found = [item for result in manager.hook.spm_contractor_integrations() for item in result]
    assert [integration.name for integration in found] == ["http_json"]


@needs_installing
def test_installed_under_the_spm_api_entry_point_group() -> None:
    (entry_point,) = entry_points(group="spm_api", name="http_contractor")
    assert entry_point.load() is spm_http_contractor


@needs_installing
async def test_the_host_loads_validates_and_calls_it(
        contractor: ContractorServer, caplog: pytest.LogCaptureFixture) -> None:
    from spm_api.plugins.host import PluginHost
    from spm_api.vocabulary.errors import DomainError, ErrorCode

    host = PluginHost.load(frozenset({"http_contractor"}), timeout=2.0)
    try:
        assert host.registry(CONTRACTOR_INTEGRATIONS)["http_json"].plugin == "http_contractor"

        host.check(VALIDATE_CONTRACTOR_SETTINGS, "http_json", settings_of(contractor))
        with pytest.raises(DomainError) as refused:
            host.check(VALIDATE_CONTRACTOR_SETTINGS, "http_json", {"base_url": "ftp://c.example"})
        assert refused.value.problems[0].code is ErrorCode.VALIDATION
        assert refused.value.problems[0].field == "settings"
        assert refused.value.problems[0].message.startswith(
            "integration 'http_json': base_url must be an http or https URL")

        contractor.status = "accepted"
        assert await host.call(SEND_ENGAGEMENT, "http_json", engagement(contractor)) == (
            EngagementReceipt("E-1", "ACCEPTED"))
        assert await host.call(REQUEST_QUOTE, "http_json", quote_request(contractor)) == (
            QuoteOffer(Decimal("1234.50"), "Q-1", date(2026, 12, 31)))

        # A 500 is PLUGIN_ERROR naming the plugin; its words are logged under the error id.
        contractor.behaviour = Behaviour.ERROR
        with caplog.at_level(logging.ERROR, logger="spm_api.plugins"), \
                pytest.raises(DomainError) as failed:
            await host.call(SEND_ENGAGEMENT, "http_json", engagement(contractor, key="second"))
        problem = failed.value.problems[0]
        assert problem.code is ErrorCode.PLUGIN_ERROR
        assert problem.message.startswith(
            "plugin 'http_contractor' raised ContractorError while sending engagement second "
            "through 'http_json'")
        assert "answered HTTP 500 Internal Server Error" in caplog.text

        # A contractor slower than SPM_PLUGIN_TIMEOUT is cut off by the host.
        contractor.behaviour, contractor.hang_seconds = Behaviour.HANG, 10.0
        with pytest.raises(DomainError) as failed:
            await host.call(SEND_ENGAGEMENT, "http_json",
                                       engagement(contractor, key="third", timeout_seconds=10))
        assert failed.value.problems[0].code is ErrorCode.PLUGIN_ERROR
        assert "did not answer within 2 s" in failed.value.problems[0].message
        assert list(contractor.engagements) == [KEY, "third"]
    finally:
        host.close()
