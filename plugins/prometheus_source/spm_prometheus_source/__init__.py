"""An example measurement source: KPI values read from a Prometheus-style HTTP query API.

A MEASURED KPI that names the ``prometheus`` source carries a PromQL expression as its
source query. Pulling asks ``GET {base_url}/api/v1/query?query=<expression>`` and takes
the one value the answer holds (an instant vector of one sample, or a scalar). Where the
server is comes from the organisation's settings for the plugin (``configurePlugin``:
``base_url``, an optional bearer ``token``, ``timeout_seconds``); a KPI's own source
settings may name another ``base_url``. Everything that gives no value — the server
down or slow, an error answer, a query matching no series or several — is answered as
``SourceUnavailable`` with words saying why, so the KPI reads UNKNOWN with the reason.

The module itself is the plugin: ``pyproject.toml`` advertises it under the ``spm_api``
entry-point group as ``prometheus_source``. Everything it needs from SPM API comes from
the public plugin API, ``spm_api.plugins``.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import httpx

from spm_api.plugins import (
    MeasurementQuery,
    MeasurementSource,
    PluginSettingsError,
    Settings,
    SourcedValue,
    SourceUnavailable,
    hookimpl,
)
from spm_api.plugins.settings import an_object, refuse_unknown

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "SOURCE_NAME",
    "ServerSettings",
    "parse_settings",
    "read",
    "spm_measurement_sources",
    "validate_kpi_settings",
    "validate_settings",
]

SOURCE_NAME = "prometheus"
QUERY_PATH = "api/v1/query"

SETTINGS_KEYS = ("base_url", "token", "timeout_seconds")
KPI_SETTINGS_KEYS = ("base_url",)

DEFAULT_TIMEOUT_SECONDS = 5.0
MAX_TIMEOUT_SECONDS = 60.0
#: An answer longer than this is refused rather than read into memory.
MAX_ANSWER_BYTES = 4 * 1024 * 1024
#: How much of an unexpected answer a reason quotes.
EXCERPT_CHARS = 200
#: SPM API keeps values up to 10^14 in magnitude.
MAX_MAGNITUDE = Decimal("99999999999999")

_TOKEN = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Where the query API is, checked, defaults filled in."""

    base_url: str
    token: str | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    @property
    def query_url(self) -> str:
        return f"{self.base_url}/{QUERY_PATH}"


# --- settings ------------------------------------------------------------------------


def parse_settings(settings: Settings, kpi_settings: Settings | None = None
                   ) -> ServerSettings:
    """The organisation's settings with the KPI's ``base_url`` over them. A key set to
    null is not set; unknown keys are refused."""
    settings = an_object(settings, f"the {SOURCE_NAME} settings")
    refuse_unknown(settings, SETTINGS_KEYS, reader=f"the {SOURCE_NAME} source")
    kpi = an_object(kpi_settings or {}, "the KPI's source settings")
    refuse_unknown(kpi, KPI_SETTINGS_KEYS, reader=f"a KPI read from {SOURCE_NAME}")
    base_url = kpi.get("base_url") if kpi.get("base_url") is not None else settings.get(
        "base_url")
    return ServerSettings(base_url=_base_url(base_url), token=_token(settings.get("token")),
                          timeout_seconds=_timeout(settings.get("timeout_seconds")))


def validate_settings(settings: Settings) -> None:
    """The organisation's settings (``configurePlugin``): base_url may be left to the
    KPIs, the rest must be usable."""
    settings = an_object(settings, f"the {SOURCE_NAME} settings")
    refuse_unknown(settings, SETTINGS_KEYS, reader=f"the {SOURCE_NAME} source")
    if settings.get("base_url") is not None:
        _base_url(settings.get("base_url"))
    _token(settings.get("token"))
    _timeout(settings.get("timeout_seconds"))


def validate_kpi_settings(settings: Settings) -> None:
    """A KPI's own source settings: only another base_url (credentials belong in the
    organisation's settings, which are not shown with the KPI)."""
    kpi = an_object(settings, "the KPI's source settings")
    refuse_unknown(kpi, KPI_SETTINGS_KEYS, reader=f"a KPI read from {SOURCE_NAME}")
    if kpi.get("base_url") is not None:
        _base_url(kpi.get("base_url"))


def _base_url(value: object) -> str:
    example = '"https://prometheus.example:9090"'
    if value is None:
        raise PluginSettingsError(
            f"base_url is required (in the organisation's {SOURCE_NAME} settings or the "
            f"KPI's): the root of the query API, such as {example}")
    if not isinstance(value, str) or any(c.isspace() or not c.isprintable() for c in value):
        raise PluginSettingsError(
            f"base_url must be an http or https URL, such as {example}, not {value!r}")
    try:
        parts = urlsplit(value)
        _ = parts.port
        httpx.URL(value)
    except (ValueError, httpx.InvalidURL) as error:
        raise PluginSettingsError(f"base_url {value!r} is not a valid URL: {error}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise PluginSettingsError(
            f"base_url must be an http or https URL, such as {example}, not {value!r}")
    if parts.username is not None or parts.password is not None:
        raise PluginSettingsError("base_url must not carry a user name or password: use "
                                  "token")
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise PluginSettingsError(
            f"base_url must not have a query or a fragment: /{QUERY_PATH} is added to it")
    return value.rstrip("/")


def _token(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or not _TOKEN.fullmatch(value):
        raise PluginSettingsError("token must be printable ASCII without spaces (it is sent "
                                  "as 'Authorization: Bearer <token>')")
    return value


def _timeout(value: object) -> float:
    if value is None:
        return DEFAULT_TIMEOUT_SECONDS
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PluginSettingsError(
            f"timeout_seconds must be a number of seconds, such as 5, not {value!r}")
    seconds = float(value)
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_TIMEOUT_SECONDS):
        raise PluginSettingsError(
            f"timeout_seconds must be more than 0 and at most {MAX_TIMEOUT_SECONDS:g}, "
            f"not {value!r}")
    return seconds


# --- the call ---------------------------------------------------------------------------


class _Unavailable(Exception):
    """No value, and why: answered as ``SourceUnavailable``."""


async def read(query: MeasurementQuery, settings: Settings
               ) -> SourcedValue | SourceUnavailable:
    """The KPI's current value from the query API, or why there is none."""
    try:
        server = parse_settings(settings, query.kpi_settings)
    except PluginSettingsError as error:
        return SourceUnavailable(f"the {SOURCE_NAME} source is not configured: {error}")
    try:
        answer = await _get(server, query.query)
        return _value(answer, server.query_url)
    except _Unavailable as unavailable:
        return SourceUnavailable(str(unavailable))


async def _get(server: ServerSettings, expression: str) -> dict[str, Any]:
    url = server.query_url
    headers = {"Accept": "application/json", "User-Agent": "spm-prometheus-source"}
    if server.token is not None:
        headers["Authorization"] = f"Bearer {server.token}"
    limit = server.timeout_seconds
    try:
        async with asyncio.timeout(limit), httpx.AsyncClient(
                timeout=limit, follow_redirects=False) as client, client.stream(
                    "GET", url, params={"query": expression}, headers=headers) as response:
            content = await _read(response, url)
    except (TimeoutError, httpx.TimeoutException):
        raise _Unavailable(f"GET {url} did not answer within {limit:g} s") from None
    except httpx.ConnectError as error:
        raise _Unavailable(f"could not connect to {url}: {_reason(error)}") from None
    except httpx.HTTPError as error:
        raise _Unavailable(f"GET {url} failed: {type(error).__name__}: "
                           f"{_reason(error)}") from None
    try:
        answer = json.loads(content, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        answer = None
    if response.status_code != 200:
        said = answer.get("error") if isinstance(answer, dict) else None
        detail = said if isinstance(said, str) and said else _excerpt(content)
        raise _Unavailable(f"GET {url} answered HTTP {response.status_code}: {detail}")
    if not isinstance(answer, dict):
        raise _Unavailable(f"GET {url} answered something that is not a JSON object: "
                           f"{_excerpt(content)}")
    if answer.get("status") != "success":
        raise _Unavailable(f"GET {url} answered status {answer.get('status')!r}: "
                           f"{answer.get('error') or _excerpt(content)}")
    return answer


async def _read(response: httpx.Response, url: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise _Unavailable(f"GET {url} answered more than "
                               f"{MAX_ANSWER_BYTES // (1024 * 1024)} MiB; refused")
    return b"".join(chunks)


def _value(answer: dict[str, Any], url: str) -> SourcedValue:
    """The one sample of an instant vector, or a scalar: ``[<unix time>, "<value>"]``."""
    data = answer.get("data")
    if not isinstance(data, dict):
        raise _Unavailable(f"the answer of {url} has no data")
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        sample = result
    elif kind == "vector" and isinstance(result, list):
        if not result:
            raise _Unavailable("the query matched no series")
        if len(result) > 1:
            raise _Unavailable(f"the query matched {len(result)} series; it must give one "
                               f"value (aggregate it, with sum(...) or avg(...))")
        sample = result[0].get("value") if isinstance(result[0], dict) else None
    else:
        raise _Unavailable(f"the answer of {url} is a {kind!r} result; expected an instant "
                           f"vector or a scalar")
    if not (isinstance(sample, list) and len(sample) == 2):
        raise _Unavailable(f"the answer of {url} has a sample {sample!r}, not "
                           f"[time, \"value\"]")
    moment, text = sample
    try:
        value = Decimal(text) if isinstance(text, str) else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise _Unavailable(f"the query's value is {text!r}, not a number")
    if abs(value) > MAX_MAGNITUDE:
        raise _Unavailable(f"the query's value {text} is too large to keep")
    if isinstance(moment, bool) or not isinstance(moment, int | float | Decimal):
        raise _Unavailable(f"the sample's time {moment!r} is not a Unix time")
    try:
        at = datetime.fromtimestamp(float(moment), UTC)
    except (OverflowError, OSError, ValueError):
        raise _Unavailable(f"the sample's time {moment!r} is not a Unix time") from None
    return SourcedValue(value=value, at=at)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _excerpt(content: bytes) -> str:
    text = " ".join(content[:EXCERPT_CHARS * 4].decode("utf-8", "replace").split())
    if not text:
        return "(empty body)"
    return repr(text if len(text) <= EXCERPT_CHARS else f"{text[:EXCERPT_CHARS]}…")


def _reason(error: httpx.HTTPError) -> str:
    """Why a request failed, in the operating system's words when it gave some."""
    cause: BaseException | None = error
    for _ in range(10):
        if cause is None:
            break
        if isinstance(cause, OSError) and cause.errno is not None and cause.errno > 0:
            return os.strerror(cause.errno)
        if isinstance(cause, OSError) and isinstance(cause.strerror, str):
            return cause.strerror
        cause = cause.__cause__ or cause.__context__
    return str(error) or type(error).__name__


# --- registration ---------------------------------------------------------------------


@hookimpl
def spm_measurement_sources() -> list[MeasurementSource]:
    return [MeasurementSource(
        name=SOURCE_NAME,
        title="Prometheus",
        description="Reads each KPI's PromQL expression from a Prometheus-style "
                    "/api/v1/query API (one series or a scalar); the organisation's "
                    "settings hold base_url, an optional bearer token and timeout_seconds.",
        read=read,
        validate_kpi_settings=validate_kpi_settings,
        validate_settings=validate_settings,
    )]
