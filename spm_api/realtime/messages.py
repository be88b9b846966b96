"""What travels on the event bus: ids and stages only, never names, amounts or text.
Each subscriber reads the rest fresh, with its own permissions."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from spm_api.domain.events import (
    DomainEvent,
    KpiBreached,
    ServiceRetiring,
    StakeholderReportIssued,
    StatementsIssued,
    VoteCast,
)
from spm_api.plugins.contracts import StageChanged


@dataclass(frozen=True, slots=True)
class StageChangedMessage:
    organisation_id: int
    change_id: int
    service_id: int
    from_stage: str | None
    to_stage: str
    kind: str = "stage_changed"
    #: When it was published (``time.time()``): the fan-out latency is measured from it.
    published_at: float = field(default=0.0, compare=False)


@dataclass(frozen=True, slots=True)
class VoteCastMessage:
    organisation_id: int
    vote_id: int
    round_id: int
    service_id: int
    kind: str = "vote_cast"
    #: When it was published (``time.time()``): the fan-out latency is measured from it.
    published_at: float = field(default=0.0, compare=False)


@dataclass(frozen=True, slots=True)
class StatementsIssuedMessage:
    """The month only: its statements are read by each subscriber (and a list of ids
    could outgrow a NOTIFY payload's 8,000 bytes)."""

    organisation_id: int
    period: str
    kind: str = "statements_issued"
    #: When it was published (``time.time()``): the fan-out latency is measured from it.
    published_at: float = field(default=0.0, compare=False)


@dataclass(frozen=True, slots=True)
class ServiceRetiringMessage:
    organisation_id: int
    service_id: int
    change_id: int
    kind: str = "service_retiring"
    #: When it was published (``time.time()``): the fan-out latency is measured from it.
    published_at: float = field(default=0.0, compare=False)


@dataclass(frozen=True, slots=True)
class KpiBreachedMessage:
    organisation_id: int
    kpi_id: int
    service_id: int
    measurement_id: int
    kind: str = "kpi_breached"
    #: When it was published (``time.time()``): the fan-out latency is measured from it.
    published_at: float = field(default=0.0, compare=False)


@dataclass(frozen=True, slots=True)
class StakeholderReportIssuedMessage:
    organisation_id: int
    report_id: int
    service_id: int
    kind: str = "stakeholder_report_issued"
    #: When it was published (``time.time()``): the fan-out latency is measured from it.
    published_at: float = field(default=0.0, compare=False)


Message = (StageChangedMessage | VoteCastMessage | StatementsIssuedMessage
           | ServiceRetiringMessage | KpiBreachedMessage | StakeholderReportIssuedMessage)

_KINDS: dict[str, type[Any]] = {
    "stage_changed": StageChangedMessage,
    "vote_cast": VoteCastMessage,
    "statements_issued": StatementsIssuedMessage,
    "service_retiring": ServiceRetiringMessage,
    "kpi_breached": KpiBreachedMessage,
    "stakeholder_report_issued": StakeholderReportIssuedMessage,
}


def message_of(event: DomainEvent) -> Message:
    if isinstance(event, StageChanged):
        return StageChangedMessage(
            event.organisation_id, event.change_id, event.service_id,
            None if event.from_stage is None else event.from_stage.value,
            event.to_stage.value)
    if isinstance(event, VoteCast):
        return VoteCastMessage(event.organisation_id, event.vote_id, event.round_id,
                               event.service_id)
    if isinstance(event, ServiceRetiring):
        return ServiceRetiringMessage(event.organisation_id, event.service_id,
                                      event.change_id)
    if isinstance(event, KpiBreached):
        return KpiBreachedMessage(event.organisation_id, event.kpi_id, event.service_id,
                                  event.measurement_id)
    if isinstance(event, StakeholderReportIssued):
        return StakeholderReportIssuedMessage(event.organisation_id, event.report_id,
                                              event.service_id)
    assert isinstance(event, StatementsIssued)
    return StatementsIssuedMessage(event.organisation_id, event.period)


def encode(message: Message) -> str:
    return json.dumps(asdict(message), separators=(",", ":"))


def decode(text: str) -> Message | None:
    """The message, or None for anything this version does not understand (a newer
    process on the same bus may publish kinds this one does not know)."""
    try:
        raw = json.loads(text)
        kind = _KINDS[raw.pop("kind")]
        message: Message = kind(**raw)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return message
