"""An example contractor integration: engagement requests and quote requests sent as
JSON over HTTP to each contractor's own endpoint.

Each contractor in an organisation's registry that names the ``http_json`` integration
has its own settings: the base URL of its API, an optional bearer token and an optional
time limit. An engagement request is POSTed to ``{base_url}/engagements`` with the
request's idempotency key in an ``Idempotency-Key`` header, so a contractor system can
recognise a repeat; a quote request is POSTed to ``{base_url}/quotes``; a cancellation
(the service cancelled, or an engagement ended while it retires) is POSTed to
``{base_url}/cancellations`` under the engagement's own key. Every failure —
the contractor down, slow, answering an error or nonsense — raises ``ContractorError``
with words saying what went wrong; SPM API turns it into ``PLUGIN_ERROR`` and its outbox
tries the engagement again later, under the same key.

The module itself is the plugin: ``pyproject.toml`` advertises it under the ``spm_api``
entry-point group as ``http_contractor``, and SPM API calls its ``@hookimpl`` functions.
Everything it needs from SPM API comes from the public plugin API, ``spm_api.plugins``.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlsplit

import httpx

from spm_api.plugins import (
    CancellationReceipt,
    CancellationRequest,
    ContractorIntegration,
    EngagementReceipt,
    EngagementRequest,
    PluginSettingsError,
    QuoteOffer,
    QuoteRequest,
    Settings,
    hookimpl,
)
from spm_api.plugins.settings import an_object, refuse_unknown

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "INTEGRATION_NAME",
    "ContractorError",
    "ContractorSettings",
    "cancel_engagement",
    "parse_settings",
    "request_quote",
    "send_engagement",
    "spm_contractor_integrations",
    "validate_settings",
]

INTEGRATION_NAME = "http_json"

SETTINGS_KEYS = ("base_url", "token", "timeout_seconds")

#: How long one call may take when a contractor's settings give no timeout_seconds.
DEFAULT_TIMEOUT_SECONDS = 10.0
#: The longest timeout_seconds a contractor may be given.
MAX_TIMEOUT_SECONDS = 60.0

#: What a contractor system may answer to an engagement request → the receipt's decision.
DECISIONS = {"received": "RECEIVED", "accepted": "ACCEPTED", "declined": "DECLINED"}

#: The statuses that carry an answer; anything else (a redirect included) is a failure.
ANSWER_STATUSES = (200, 201)

#: An answer longer than this is refused rather than read into memory.
MAX_ANSWER_BYTES = 1024 * 1024
#: How much of an unexpected answer an error message quotes.
EXCERPT_CHARS = 200
#: SPM API keeps contractor references in 200 characters.
MAX_REFERENCE_CHARS = 200
#: Digits before the decimal point a quoted amount may have: SPM API stores amounts as
#: ten-thousandths in a 64-bit integer, so anything from 10^12 up cannot be kept.
MAX_INTEGER_DIGITS = 12

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: A decimal string as the contract writes amounts: "1234.50", "0", "-3" (refused later).
_DECIMAL = re.compile(r"-?\d+(\.\d+)?")
#: A bearer token: printable ASCII, no spaces (it goes into an HTTP header as it is).
_TOKEN = re.compile(r"[\x21-\x7e]+")

try:
    _USER_AGENT = f"spm-http-contractor/{version('spm-http-contractor')}"
except PackageNotFoundError:  # imported from a source tree without being installed
    _USER_AGENT = "spm-http-contractor"


#: Stands for a key the answer does not have.
_MISSING: Any = object()


class ContractorError(RuntimeError):
    """The contractor's system could not be reached, or answered something unusable.
    SPM API reports it as ``PLUGIN_ERROR`` and logs the message under the error id."""


@dataclass(frozen=True, slots=True)
class ContractorSettings:
    """One contractor's settings for this integration, checked, defaults filled in."""

    #: The contractor API's root, without a trailing slash: ``https://contractor.example/api``.
    base_url: str
    #: Sent as ``Authorization: Bearer <token>``; None sends no Authorization header.
    token: str | None = None
    #: The limit for one request, connecting included, in seconds.
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path}"


# --- settings ------------------------------------------------------------------------


def parse_settings(settings: Settings) -> ContractorSettings:
    """Check a contractor's settings and fill in the defaults.

    A key set to null is treated as not set; unknown keys are refused, so a typo such
    as ``timeout`` is an error rather than a silently ignored limit. Raises
    ``PluginSettingsError`` with words for the person registering the contractor.
    """
    settings = an_object(settings, f"the {INTEGRATION_NAME} settings")
    refuse_unknown(settings, SETTINGS_KEYS, reader=f"the {INTEGRATION_NAME} integration")
    return ContractorSettings(base_url=_base_url(settings.get("base_url")),
                              token=_token(settings.get("token")),
                              timeout_seconds=_timeout(settings.get("timeout_seconds")))


def validate_settings(settings: Settings) -> None:
    """Refuse settings the integration cannot use; called when a contractor is
    registered with ``registerContractor``."""
    parse_settings(settings)


def _base_url(value: object) -> str:
    example = '"https://contractor.example/api"'
    if value is None:
        raise PluginSettingsError(
            f"base_url is required: the root of the contractor's API, such as {example}")
    if not isinstance(value, str) or not value:
        raise PluginSettingsError(
            f"base_url must be an http or https URL, such as {example}, not {value!r}")
    if any(character.isspace() or not character.isprintable() for character in value):
        raise PluginSettingsError(
            f"base_url must not contain spaces or control characters: {value!r}")
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError as error:
        raise PluginSettingsError(f"base_url {value!r} is not a valid URL: {error}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise PluginSettingsError(
            f"base_url must be an http or https URL, such as {example}, not {value!r}")
    if not parts.hostname:
        raise PluginSettingsError(f"base_url {value!r} names no host")
    if parts.username is not None or parts.password is not None:
        raise PluginSettingsError(
            "base_url must not carry a user name or password: put the contractor's "
            "credential in token")
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise PluginSettingsError(
            f"base_url must not have a query or a fragment: the integration adds "
            f"/engagements and /quotes to it, not {value!r}")
    try:
        httpx.URL(value)
    except httpx.InvalidURL as error:
        raise PluginSettingsError(f"base_url {value!r} is not a valid URL: {error}") from None
    return value.rstrip("/")


def _token(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise PluginSettingsError(f"token must be a string, not {type(value).__name__}")
    if not value:
        raise PluginSettingsError("token must not be empty: leave it out to send no token")
    if not _TOKEN.fullmatch(value):
        # The value itself is a secret: it stays out of the message.
        raise PluginSettingsError(
            "token must be printable ASCII without spaces (it is sent as "
            "'Authorization: Bearer <token>')")
    return value


def _timeout(value: object) -> float:
    if value is None:
        return DEFAULT_TIMEOUT_SECONDS
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PluginSettingsError(
            f"timeout_seconds must be a number of seconds, such as 10, not {value!r}")
    seconds = float(value)
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_TIMEOUT_SECONDS):
        raise PluginSettingsError(
            f"timeout_seconds must be more than 0 and at most {MAX_TIMEOUT_SECONDS:g}, "
            f"not {value!r}")
    return seconds


# --- the calls -------------------------------------------------------------------------


async def send_engagement(request: EngagementRequest) -> EngagementReceipt:
    """POST the engagement request to ``{base_url}/engagements``; the contractor's
    answer ``{"reference": ..., "status": "received"|"accepted"|"declined"}`` becomes
    the receipt. Raises ``ContractorError`` for anything else."""
    settings = parse_settings(request.contractor_settings)
    body = {
        "idempotency_key": request.idempotency_key,
        "organisation_id": request.organisation_id,
        "service_id": request.service_id,
        "service": request.service_name,
        "capability": request.capability,
        "description": request.description,
        "estimated_cost": None if request.estimated_cost is None
        else _plain(request.estimated_cost),
        "currency": request.currency,
    }
    answer = await _post(settings, "engagements", body,
                         {"Idempotency-Key": request.idempotency_key})
    where = f"the engagement answer of {settings.url('engagements')}"
    reference = _reference(answer, where, required=True)
    status = answer.get("status", _MISSING)
    if not isinstance(status, str) or status not in DECISIONS:
        raise ContractorError(
            f"{where} has status {_shown(status)}; expected one of "
            f"{', '.join(repr(known) for known in DECISIONS)}")
    return EngagementReceipt(reference=reference, decision=DECISIONS[status])


async def cancel_engagement(request: CancellationRequest) -> CancellationReceipt:
    """POST the cancellation to ``{base_url}/cancellations`` with the engagement's
    ``Idempotency-Key``; the contractor's answer ``{"status": "cancelled", "reference":
    ...}`` (reference optional) becomes the receipt. Raises ``ContractorError`` for
    anything else, so the cancellation is tried again later."""
    settings = parse_settings(request.contractor_settings)
    body = {
        "idempotency_key": request.idempotency_key,
        "reference": request.contractor_reference,
        "organisation_id": request.organisation_id,
        "service_id": request.service_id,
        "service": request.service_name,
        "capability": request.capability,
        "reason": request.reason,
    }
    answer = await _post(settings, "cancellations", body,
                         {"Idempotency-Key": request.idempotency_key})
    where = f"the cancellation answer of {settings.url('cancellations')}"
    status = answer.get("status", _MISSING)
    if status != "cancelled":
        raise ContractorError(f"{where} has status {_shown(status)}; expected 'cancelled'")
    return CancellationReceipt(reference=_reference(answer, where, required=False))


async def request_quote(request: QuoteRequest) -> QuoteOffer:
    """POST the quote request to ``{base_url}/quotes``; the contractor's answer
    ``{"amount": "1234.50", "currency": "EUR", "reference": "Q-7", "valid_until":
    "2026-12-31"}`` becomes the offer. Raises ``ContractorError`` for an answer in
    another currency, without a usable amount or with a bad date."""
    settings = parse_settings(request.contractor_settings)
    body = {
        "service": request.service_name,
        "capability": request.capability,
        "description": request.description,
        "currency": request.currency,
    }
    answer = await _post(settings, "quotes", body, {})
    where = f"the quote of {settings.url('quotes')}"
    currency = answer.get("currency", _MISSING)
    if currency != request.currency:
        raise ContractorError(
            f"{where} has currency {_shown(currency)}, but the quote was asked in "
            f"{request.currency}")
    return QuoteOffer(amount=_amount(answer.get("amount", _MISSING), where),
                      reference=_reference(answer, where, required=False),
                      valid_until=_valid_until(answer.get("valid_until"), where))


async def _post(settings: ContractorSettings, path: str, body: Mapping[str, Any],
                headers: Mapping[str, str]) -> dict[str, Any]:
    """POST ``body`` as JSON and return the JSON object answered with 200 or 201."""
    url = settings.url(path)
    sent = {"Accept": "application/json", "User-Agent": _USER_AGENT, **headers}
    if settings.token is not None:
        sent["Authorization"] = f"Bearer {settings.token}"
    limit = settings.timeout_seconds
    try:
        # The httpx limit applies to each phase (connect, write, each read); the outer
        # one bounds the whole exchange, so a contractor dripping bytes cannot stretch it.
        async with asyncio.timeout(limit), httpx.AsyncClient(
                timeout=limit, follow_redirects=False) as client, client.stream(
                    "POST", url, json=body, headers=sent) as response:
            content = await _read(response, url)
    except (TimeoutError, httpx.TimeoutException):
        raise ContractorError(f"POST {url} did not answer within {limit:g} s") from None
    except httpx.ConnectError as error:
        raise ContractorError(f"could not connect to {url}: {_reason(error)}") from error
    except httpx.HTTPError as error:
        raise ContractorError(
            f"POST {url} failed: {type(error).__name__}: {_reason(error)}") from error

    status = f"HTTP {response.status_code}"
    if response.reason_phrase:
        status += f" {response.reason_phrase}"
    if response.status_code not in ANSWER_STATUSES:
        raise ContractorError(f"POST {url} answered {status}: {_excerpt(content)}")
    try:
        answer = json.loads(content, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # RecursionError: nested too deep to read
        raise ContractorError(
            f"POST {url} answered {status} with a body that is not JSON: "
            f"{_excerpt(content)}") from None
    if not isinstance(answer, dict):
        raise ContractorError(
            f"POST {url} answered {status} with JSON that is not an object: "
            f"{_excerpt(content)}")
    return answer


async def _read(response: httpx.Response, url: str) -> bytes:
    """The answer's body; only its start when the status already makes it a failure
    (the message quotes no more), and never more than MAX_ANSWER_BYTES."""
    failed = response.status_code not in ANSWER_STATUSES
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if failed and size >= EXCERPT_CHARS * 4:
            break
        if size > MAX_ANSWER_BYTES:
            raise ContractorError(
                f"POST {url} answered HTTP {response.status_code} with more than "
                f"{MAX_ANSWER_BYTES // (1024 * 1024)} MiB; refused")
    return b"".join(chunks)


# --- reading answers -------------------------------------------------------------------


def _reference(answer: Mapping[str, Any], where: str, *, required: bool) -> str:
    reference = answer.get("reference", _MISSING)
    if (reference is None or reference is _MISSING) and not required:
        return ""
    if not isinstance(reference, str) or (required and not reference.strip()):
        raise ContractorError(
            f"{where} has reference {_shown(reference)}; expected "
            f"{'a non-empty string' if required else 'a string or null'}")
    if len(reference) > MAX_REFERENCE_CHARS:
        raise ContractorError(
            f"{where} has a reference of {len(reference)} characters; at most "
            f"{MAX_REFERENCE_CHARS} are kept")
    return reference


def _amount(value: object, where: str) -> Decimal:
    example = 'a decimal string such as "1234.50"'
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        raise ContractorError(f"{where} has amount {_shown(value)}; expected {example}")
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ContractorError(f"{where} has amount {_shown(value)}; expected {example}")
    try:
        amount = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern above lets none through
        raise ContractorError(
            f"{where} has amount {_shown(value)}; expected {example}") from None
    if not amount.is_finite():
        raise ContractorError(f"{where} has amount {_shown(value)}; expected {example}")
    if amount < 0:
        raise ContractorError(f"{where} has a negative amount, {_plain(amount)}")
    if amount.adjusted() >= MAX_INTEGER_DIGITS:
        raise ContractorError(f"{where} has amount {_shown(value)}, which is too large")
    return amount


def _valid_until(value: object, where: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ContractorError(
        f'{where} has valid_until {_shown(value)}; expected a date such as "2026-12-31" '
        f"or null")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _plain(amount: Decimal) -> str:
    """A decimal without exponent: 1E+3 → "1000", 12.50 → "12.50"."""
    return format(amount, "f")


def _shown(value: object) -> str:
    """A value from an answer, for a message: JSON-like and short."""
    if value is _MISSING:
        return "(missing)"
    if value is None:
        return "null"
    if isinstance(value, Decimal):
        value = _plain(value)
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:59]}…"


def _excerpt(content: bytes) -> str:
    """The start of an answer's body, on one line, quoted."""
    text = " ".join(content[:EXCERPT_CHARS * 4].decode("utf-8", "replace").split())
    if not text:
        return "(empty body)"
    if len(text) > EXCERPT_CHARS:
        text = f"{text[:EXCERPT_CHARS]}…"
    return repr(text)


def _reason(error: httpx.HTTPError) -> str:
    """Why a request failed, in the operating system's words when it gave some
    ("Connection refused" rather than httpx's "All connection attempts failed")."""
    cause: BaseException | None = error
    for _ in range(10):  # the chain is short; a cycle must not hang us
        if cause is None:
            break
        if isinstance(cause, OSError) and cause.errno is not None and cause.errno > 0:
            return os.strerror(cause.errno)
        if isinstance(cause, OSError) and isinstance(cause.strerror, str):
            return cause.strerror  # socket.gaierror: "Name or service not known"
        cause = cause.__cause__ or cause.__context__
    return str(error) or type(error).__name__


# --- registration ----------------------------------------------------------------------


@hookimpl
def spm_contractor_integrations() -> list[ContractorIntegration]:
    return [ContractorIntegration(
        name=INTEGRATION_NAME,
        title="HTTP JSON",
        description="Sends engagement requests and their cancellations (with an "
                    "Idempotency-Key header) and quote requests as JSON over HTTP to each "
                    "contractor's base_url; a contractor's settings hold base_url, an "
                    "optional bearer token and timeout_seconds.",
        send_engagement=send_engagement,
        request_quote=request_quote,
        validate_settings=validate_settings,
        cancel_engagement=cancel_engagement,
    )]
