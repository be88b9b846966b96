"""The outbox worker: delivers engagement requests to contractors' systems after the
chartering transaction has committed, and cancellations after the transaction that
cancelled, never inside a transaction.

Each round claims the due requests in a short transaction (``FOR UPDATE SKIP LOCKED``
on PostgreSQL, plus a conditional update that only one worker can win on any backend),
delivers them outside it with the plugin host's time limit, and records each outcome in
another short transaction: SENT, ACCEPTED or DECLINED; or, on an error, a retry after an
exponential backoff, FAILED after the last attempt. A worker that dies mid-delivery
leaves a claim that lapses after the lease; the next attempt reuses the idempotency key,
so the contractor can ignore the repeat. A cancellation (CANCELLING) is delivered the
same way through the integration's ``cancel_engagement``: CANCELLED once it answers,
CANCEL_FAILED after the last attempt; an integration without ``cancel_engagement`` is not
called and the engagement is CANCELLED with a NOT_SUPPORTED attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from spm_api.db.base import utcnow
from spm_api.models import (
    Capability,
    Contractor,
    Engagement,
    EngagementAttempt,
    Organisation,
    Service,
)
from spm_api.plugins.contracts import (
    CANCEL_ENGAGEMENT,
    CONTRACTOR_INTEGRATIONS,
    SEND_ENGAGEMENT,
    CancellationReceipt,
    CancellationRequest,
    EngagementReceipt,
    EngagementRequest,
)
from spm_api.plugins.host import PluginHost
from spm_api.settings import Settings
from spm_api.vocabulary.enums import AttemptKind, EngagementStatus
from spm_api.vocabulary.errors import DomainError

logger = logging.getLogger("spm_api.outbox")

RECEIPT_STATUS = {
    "RECEIVED": EngagementStatus.SENT,
    "ACCEPTED": EngagementStatus.ACCEPTED,
    "DECLINED": EngagementStatus.DECLINED,
}


#: What the worker delivers for an engagement in each status.
DUE = {EngagementStatus.PENDING: AttemptKind.REQUEST,
       EngagementStatus.CANCELLING: AttemptKind.CANCELLATION}


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed request or cancellation: what to send, through which integration,
    which attempt."""

    engagement_id: int
    organisation_id: int
    integration: str
    attempt: int
    claimed_until: datetime
    request: EngagementRequest | CancellationRequest

    @property
    def kind(self) -> AttemptKind:
        if isinstance(self.request, CancellationRequest):
            return AttemptKind.CANCELLATION
        return AttemptKind.REQUEST


@dataclass(frozen=True, slots=True)
class NotSupported:
    """The integration has no ``cancel_engagement``: nothing was sent."""

    message: str


Outcome = EngagementReceipt | CancellationReceipt | NotSupported | str


@dataclass(frozen=True, slots=True)
class Policy:
    max_attempts: int
    backoff: float
    backoff_max: float
    lease: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        # A claim must outlive the slowest delivery the plugin host allows.
        lease = timedelta(seconds=settings.plugin_timeout * 2 + 10)
        return cls(settings.outbox_max_attempts, settings.outbox_backoff_seconds,
                   settings.outbox_backoff_max_seconds, lease)

    def delay(self, attempt: int) -> timedelta:
        """2 s, 4 s, 8 s … after the first, second, third failed attempt, capped."""
        return timedelta(seconds=min(self.backoff * 2 ** (attempt - 1), self.backoff_max))


async def claim_due(sessions: async_sessionmaker[AsyncSession], policy: Policy,
                    limit: int = 20) -> list[Delivery]:
    now = utcnow()
    deliveries = []
    async with sessions() as session, session.begin():
        candidates = (await session.execute(
            select(Engagement.id)
            .where(Engagement.status.in_(DUE),
                   Engagement.next_attempt_at <= now,
                   or_(Engagement.claimed_until.is_(None), Engagement.claimed_until < now))
            .order_by(Engagement.next_attempt_at, Engagement.id)
            .limit(limit)
            .with_for_update(skip_locked=True))).scalars().all()
        claimed_until = now + policy.lease
        for engagement_id in candidates:
            won = await session.execute(
                update(Engagement)
                .where(Engagement.id == engagement_id,
                       Engagement.status.in_(DUE),
                       or_(Engagement.claimed_until.is_(None), Engagement.claimed_until < now))
                .values(claimed_until=claimed_until, attempts=Engagement.attempts + 1,
                        updated_at=now))
            if won.rowcount == 1:  # type: ignore[attr-defined]
                deliveries.append(await _delivery(session, engagement_id, claimed_until))
    return deliveries


async def _delivery(session: AsyncSession, engagement_id: int, claimed_until: datetime
                    ) -> Delivery:
    engagement, capability, service, contractor, currency = (await session.execute(
        select(Engagement, Capability, Service, Contractor, Organisation.currency)
        .join(Capability, Capability.id == Engagement.capability_id)
        .join(Service, Service.id == Engagement.service_id)
        .join(Contractor, Contractor.id == Engagement.contractor_id)
        .join(Organisation, Organisation.id == Engagement.organisation_id)
        .where(Engagement.id == engagement_id))).one()
    request: EngagementRequest | CancellationRequest
    if engagement.status is EngagementStatus.CANCELLING:
        request = CancellationRequest(
            idempotency_key=engagement.idempotency_key,
            organisation_id=engagement.organisation_id, service_id=service.id,
            service_name=service.name, capability=capability.name,
            reason=engagement.cancellation_reason or "",
            contractor_reference=engagement.contractor_reference,
            contractor_settings=dict(contractor.settings))
    else:
        request = EngagementRequest(
            idempotency_key=engagement.idempotency_key,
            organisation_id=engagement.organisation_id, service_id=service.id,
            service_name=service.name, capability=capability.name,
            description=capability.description, contractor_settings=dict(contractor.settings),
            estimated_cost=capability.estimated_cost, currency=currency)
    return Delivery(engagement.id, engagement.organisation_id, contractor.integration,
                    engagement.attempts, claimed_until, request)


async def deliver(plugins: PluginHost, delivery: Delivery) -> Outcome:
    """The contractor's receipt, or why this attempt failed."""
    try:
        if isinstance(delivery.request, CancellationRequest):
            registered = plugins.registry(CONTRACTOR_INTEGRATIONS).get(delivery.integration)
            if registered is not None and registered.item.cancel_engagement is None:
                reference = delivery.request.contractor_reference
                return NotSupported(
                    f"the integration {delivery.integration!r} cannot send cancellations: "
                    f"tell the contractor yourself"
                    + (f" (their reference {reference})" if reference else ""))
            return await plugins.call(CANCEL_ENGAGEMENT, delivery.integration,
                                      delivery.request)
        return await plugins.call(SEND_ENGAGEMENT, delivery.integration, delivery.request)
    except DomainError as error:  # the host logged the plugin's failure with its id
        return error.problems[0].message


async def record(sessions: async_sessionmaker[AsyncSession], policy: Policy,
                 delivery: Delivery, outcome: Outcome) -> EngagementStatus:
    now = utcnow()
    async with sessions() as session, session.begin():
        engagement = await session.scalar(
            select(Engagement).where(Engagement.id == delivery.engagement_id)
            .with_for_update())
        assert engagement is not None
        if engagement.claimed_until != delivery.claimed_until:
            # The lease ran out and another worker owns the request now: its outcome,
            # not this late one, is recorded.
            logger.warning("engagement %s: attempt %s finished after its lease; ignored",
                           engagement.id, delivery.attempt)
            return engagement.status
        cancelled_meanwhile = (delivery.kind is AttemptKind.REQUEST
                               and engagement.status is EngagementStatus.CANCELLING)
        if cancelled_meanwhile:
            # Cancelled while its request was on the way: the attempt is history, the
            # cancellation (waiting for this claim to end) is delivered next.
            attempt_outcome, detail = _history(outcome)
            if isinstance(outcome, EngagementReceipt):
                engagement.contractor_reference = outcome.reference[:200] or None
        elif isinstance(outcome, EngagementReceipt):
            engagement.status = RECEIPT_STATUS[outcome.decision]
            engagement.contractor_reference = outcome.reference[:200] or None
            engagement.last_error = None
            attempt_outcome, detail = outcome.decision, outcome.reference
        elif isinstance(outcome, CancellationReceipt | NotSupported):
            engagement.status = EngagementStatus.CANCELLED
            engagement.last_error = None
            attempt_outcome, detail = _history(outcome)
        else:
            attempt_outcome, detail = "ERROR", outcome
            engagement.last_error = outcome
            if delivery.attempt >= policy.max_attempts:
                engagement.status = (EngagementStatus.FAILED
                                     if delivery.kind is AttemptKind.REQUEST
                                     else EngagementStatus.CANCEL_FAILED)
            else:
                engagement.next_attempt_at = now + policy.delay(delivery.attempt)
        engagement.claimed_until = None
        engagement.updated_at = now
        session.add(EngagementAttempt(
            organisation_id=delivery.organisation_id, engagement_id=engagement.id,
            kind=delivery.kind, number=delivery.attempt, at=now, outcome=attempt_outcome,
            detail=detail[:2000]))
        return engagement.status


def _history(outcome: Outcome) -> tuple[str, str]:
    """The attempt's outcome and detail as the history shows them."""
    if isinstance(outcome, EngagementReceipt):
        return outcome.decision, outcome.reference
    if isinstance(outcome, CancellationReceipt):
        return "CANCELLED", outcome.reference
    if isinstance(outcome, NotSupported):
        return "NOT_SUPPORTED", outcome.message
    return "ERROR", outcome


async def release(sessions: async_sessionmaker[AsyncSession],
                  deliveries: list[Delivery]) -> None:
    """Give back claims whose outcome will not be recorded (the worker is stopping): due
    again at once for the next worker, the attempt not counted. A contractor that got
    the request meanwhile sees the same idempotency key again."""
    async with sessions() as session, session.begin():
        for delivery in deliveries:
            await session.execute(
                update(Engagement)
                .where(Engagement.id == delivery.engagement_id,
                       Engagement.claimed_until == delivery.claimed_until)
                .values(claimed_until=None, attempts=Engagement.attempts - 1))


async def backlog(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, float]:
    """Requests and cancellations not yet delivered (waiting for a retry included), and
    how long the one due longest has waited for the worker, in seconds (0: none due)."""
    now = utcnow()
    async with sessions() as session:
        count, oldest = (await session.execute(
            select(func.count(), func.min(Engagement.next_attempt_at))
            .where(Engagement.status.in_(DUE)))).one()
    waited = 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
    return int(count), waited


async def run_once(sessions: async_sessionmaker[AsyncSession], plugins: PluginHost,
                   policy: Policy) -> int:
    """Deliver every request due now; how many were attempted. Cancelled while
    delivering (a shutdown that could not wait), the claims not yet recorded are
    released rather than left to lapse after the lease."""
    deliveries = await claim_due(sessions, policy)
    try:
        outcomes = await asyncio.gather(*(deliver(plugins, d) for d in deliveries))
    except asyncio.CancelledError:
        await asyncio.shield(release(sessions, deliveries))
        raise
    for delivery, outcome in zip(deliveries, outcomes, strict=True):
        status = await record(sessions, policy, delivery, outcome)
        logger.info("engagement %s %s attempt %s: %s", delivery.engagement_id,
                    delivery.kind.value.lower(), delivery.attempt, status.value)
    return len(deliveries)


async def run_forever(sessions: async_sessionmaker[AsyncSession], plugins: PluginHost,
                      settings: Settings, stop: asyncio.Event) -> None:
    """Poll until ``stop`` is set; a failing round is logged and the next one tries."""
    policy = Policy.of(settings)
    while not stop.is_set():
        try:
            attempted = await run_once(sessions, plugins, policy)
        except Exception:  # keep delivering: the database may be back next round
            logger.exception("outbox round failed")
            attempted = 0
        if attempted == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.outbox_poll_seconds)
