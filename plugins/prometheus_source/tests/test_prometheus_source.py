"""The prometheus measurement source against a real Prometheus-style query API on a
loopback port (``prometheus_server``): no mocking of httpx. Run with
``pytest plugins/prometheus_source``."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, distribution

import pytest
from prometheus_server import PrometheusServer
from spm_prometheus_source import (
    SOURCE_NAME,
    parse_settings,
    read,
    spm_measurement_sources,
    validate_kpi_settings,
    validate_settings,
)

from spm_api.plugins import (
    MeasurementQuery,
    MeasurementSource,
    PluginSettingsError,
    SourcedValue,
    SourceUnavailable,
)


def installed() -> bool:
    try:
        distribution("spm-prometheus-source")
    except PackageNotFoundError:
        return False
    return True


needs_installing = pytest.mark.skipif(
    not installed(),
    reason="the spm-prometheus-source distribution is not installed, so its entry point "
           "cannot load: run `pip install -e plugins/prometheus_source` (make install does)")


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx honours proxy variables; the server here is on the loopback."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def prometheus() -> Iterator[PrometheusServer]:
    server = PrometheusServer(values={
        "avg(up)": 0.99912345678, "sum(errors)": None, "up": [1, 0], "big": 1e20,
        "nan": "NaN"}).start()
    try:
        yield server
    finally:
        server.close()


def query(expression: str, **kpi_settings: object) -> MeasurementQuery:
    return MeasurementQuery(organisation_id=1, service_id=2, service_name="Mail", kpi_id=3,
                            kpi_name="Availability", unit="%", query=expression,
                            kpi_settings=kpi_settings)


async def test_a_value_arrives_with_the_sample_time(prometheus: PrometheusServer) -> None:
    answer = await read(query("avg(up)"), {"base_url": prometheus.base_url})
    assert isinstance(answer, SourcedValue)
    assert answer.value == Decimal("0.99912345678")
    assert answer.at is not None and answer.at.tzinfo is not None
    assert prometheus.asked == ["avg(up)"]


async def test_the_kpi_may_name_its_own_server(prometheus: PrometheusServer) -> None:
    answer = await read(query("avg(up)", base_url=prometheus.base_url),
                        {"base_url": "http://127.0.0.1:9"})
    assert isinstance(answer, SourcedValue)


async def test_the_token_is_sent(prometheus: PrometheusServer) -> None:
    prometheus.required_token = "s3cret"
    refused = await read(query("avg(up)"), {"base_url": prometheus.base_url})
    assert refused == SourceUnavailable(
        f"GET {prometheus.base_url}/api/v1/query answered HTTP 401: bad token")
    answer = await read(query("avg(up)"), {"base_url": prometheus.base_url,
                                           "token": "s3cret"})
    assert isinstance(answer, SourcedValue)


@pytest.mark.parametrize(("expression", "reason"), [
    ("sum(errors)", "the query matched no series"),
    ("up", "the query matched 2 series; it must give one value (aggregate it, with sum(...) "
           "or avg(...))"),
    ("big", "the query's value 1e+20 is too large to keep"),
    ("nan", "the query's value is 'NaN', not a number"),
])
async def test_answers_without_one_usable_value_say_why(
        prometheus: PrometheusServer, expression: str, reason: str) -> None:
    assert await read(query(expression), {"base_url": prometheus.base_url}) == \
        SourceUnavailable(reason)


async def test_errors_and_a_down_server_are_reasons_not_crashes(
        prometheus: PrometheusServer) -> None:
    url = f"{prometheus.base_url}/api/v1/query"
    unknown = await read(query("rate(x[5m]"), {"base_url": prometheus.base_url})
    assert unknown == SourceUnavailable(
        f"GET {url} answered HTTP 400: parse error: unknown expression 'rate(x[5m]'")
    prometheus.error_status = 503
    assert await read(query("avg(up)"), {"base_url": prometheus.base_url}) == \
        SourceUnavailable(f"GET {url} answered HTTP 503: the TSDB is not ready")
    prometheus.stop()
    down = await read(query("avg(up)"), {"base_url": prometheus.base_url})
    assert down == SourceUnavailable(f"could not connect to {url}: Connection refused")
    unset = await read(query("avg(up)"), {})
    assert isinstance(unset, SourceUnavailable)
    assert unset.reason.startswith("the prometheus source is not configured: base_url is "
                                   "required")


def test_settings_are_checked() -> None:
    assert parse_settings({"base_url": "http://prom:9090/"}).query_url == \
        "http://prom:9090/api/v1/query"
    validate_settings({})  # base_url may be left to each KPI
    for bad, words in [({"base_url": "prom:9090"}, "must be an http or https URL"),
                       ({"base_url": "http://prom/?x=1"}, "must not have a query"),
                       ({"timeout_seconds": 0}, "more than 0"),
                       ({"token": "with space"}, "printable ASCII"),
                       ({"url": "http://prom"}, "unknown setting 'url'")]:
        with pytest.raises(PluginSettingsError, match=words):
            validate_settings(bad)
    validate_kpi_settings({"base_url": "https://prom.example"})
    with pytest.raises(PluginSettingsError, match="unknown setting 'token'"):
        validate_kpi_settings({"token": "x"})


@needs_installing
def test_it_registers_one_source() -> None:
    sources = spm_measurement_sources()
    assert [source.name for source in sources] == [SOURCE_NAME]
    assert isinstance(sources[0], MeasurementSource)
