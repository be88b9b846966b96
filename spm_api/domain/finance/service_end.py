"""A retiring (or retired) service is delivered up to its planned end date: usage and
charges for any month after the one it ends in are refused."""

from __future__ import annotations

from spm_api.models import Service
from spm_api.vocabulary.errors import ErrorCode, fail
from spm_api.vocabulary.periods import Period


def last_month(service: Service) -> Period | None:
    """The month the service ends in; None while no end is planned."""
    end = service.planned_end_date
    return None if end is None else Period(end.year, end.month)


def ended_before(service: Service, month: Period) -> str | None:
    """Why ``month`` is after the service's end, or None when it is not."""
    last = last_month(service)
    if last is None or month <= last:
        return None
    return (f"{service.name!r} ends on {service.planned_end_date} ({service.stage.value}): "
            f"nothing is used or charged after {last}, not in {month}")


def require_delivered(service: Service, month: Period, field: str = "period") -> None:
    why = ended_before(service, month)
    if why is not None:
        raise fail(ErrorCode.SERVICE_ENDED, why, field)
