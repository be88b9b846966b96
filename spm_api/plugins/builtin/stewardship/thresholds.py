"""The default health model, ``thresholds``: each KPI's current value against its
warning and breach thresholds, and the service as its worst KPI.

A KPI is FAILING past its breach threshold, AT_RISK past its warning threshold,
HEALTHY otherwise, and UNKNOWN without a value (nothing measured yet, or its source
failing). The service takes its worst KPI's status, UNKNOWN counting worse than HEALTHY
(a service cannot be called healthy on a KPI nobody can read); without KPIs it is
UNKNOWN.
"""

from __future__ import annotations

from spm_api.plugins import (
    Health,
    HealthAssessment,
    HealthModel,
    KpiDirection,
    KpiJudgement,
    KpiReading,
    ServiceReadings,
    Settings,
    hookimpl,
)
from spm_api.plugins.settings import an_object, refuse_unknown
from spm_api.vocabulary.measures import plain, worse

MODEL_NAME = "thresholds"

#: Worst last: the service takes the status furthest along.
SEVERITY = (Health.HEALTHY, Health.UNKNOWN, Health.AT_RISK, Health.FAILING)


def judge(reading: KpiReading) -> KpiJudgement:
    """One KPI's status and the words that explain it."""
    if reading.value is None:
        why = (f"no current value: {reading.unavailable}" if reading.unavailable
               else "nothing measured yet")
        return KpiJudgement(reading.kpi_id, Health.UNKNOWN, f"{reading.name}: {why}")
    value = reading.value
    unit = f" {reading.unit}" if reading.unit else ""
    shown = f"{reading.name} is {plain(value)}{unit}"
    if reading.period:
        shown += f" ({reading.period})"
    better = ("higher" if reading.direction is KpiDirection.HIGHER_IS_BETTER
              else "lower")
    target = f"target {plain(reading.target)}{unit}, {better} is better"
    if worse(reading.direction, value, reading.breach_threshold):
        return KpiJudgement(reading.kpi_id, Health.FAILING,
                            f"{shown}, past the breach threshold "
                            f"{plain(reading.breach_threshold)}{unit} ({target})")
    if worse(reading.direction, value, reading.warning_threshold):
        return KpiJudgement(reading.kpi_id, Health.AT_RISK,
                            f"{shown}, past the warning threshold "
                            f"{plain(reading.warning_threshold)}{unit} ({target})")
    if worse(reading.direction, value, reading.target):
        return KpiJudgement(reading.kpi_id, Health.HEALTHY,
                            f"{shown}, short of the target but within the warning "
                            f"threshold {plain(reading.warning_threshold)}{unit} ({target})")
    return KpiJudgement(reading.kpi_id, Health.HEALTHY, f"{shown}, meeting the {target}")


async def assess(service: ServiceReadings, _settings: Settings) -> HealthAssessment:
    """A coroutine function although it never waits: the host then calls it on the
    event loop, not in a worker thread, which matters at one call per live service."""
    judgements = tuple(judge(reading) for reading in service.readings)
    if not judgements:
        return HealthAssessment(Health.UNKNOWN, "no KPIs are defined", ())
    status = max((judgement.status for judgement in judgements), key=SEVERITY.index)
    names = [reading.name for reading, judgement in zip(service.readings, judgements,
                                                        strict=True)
             if judgement.status is status]
    total = len(judgements)
    words = {Health.HEALTHY: "healthy", Health.UNKNOWN: "without a current value",
             Health.AT_RISK: "at risk", Health.FAILING: "failing"}[status]
    if status is Health.HEALTHY:
        explanation = f"all {total} KPIs healthy" if total > 1 else "its KPI is healthy"
    else:
        explanation = f"{len(names)} of {total} KPIs {words}: {', '.join(names)}"
    return HealthAssessment(status, explanation, judgements)


def validate_settings(settings: Settings) -> None:
    refuse_unknown(an_object(settings, "the thresholds settings"), (),
                   reader="the thresholds health model")


@hookimpl
def spm_health_models() -> list[HealthModel]:
    return [HealthModel(
        name=MODEL_NAME,
        title="Thresholds",
        description="Each KPI FAILING past its breach threshold, AT_RISK past its warning "
                    "threshold, UNKNOWN without a current value, HEALTHY otherwise; the "
                    "service takes its worst KPI's status (no KPIs: UNKNOWN).",
        assess=assess,
        validate_settings=validate_settings,
        default=True,
    )]
