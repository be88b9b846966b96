"""After a commit: publish what happened on the event bus and tell the plugins. The
one place both happen, so neither ever hears of work that was rolled back."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from spm_api.domain.events import DomainEvent
from spm_api.plugins.contracts import STAGE_CHANGE_OBSERVERS, StageChanged
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.realtime.messages import message_of

logger = logging.getLogger("spm_api.realtime")


async def announce_committed(bus: EventBus, plugins: PluginHost,
                             committed: Sequence[DomainEvent]) -> None:
    """The change is already committed: a bus that is down loses the live message
    (subscribers that resume with ``after`` still get stage changes from the history),
    never the change."""
    for event in committed:
        if isinstance(event, StageChanged):
            plugins.announce(STAGE_CHANGE_OBSERVERS, event)
        try:
            await bus.publish(message_of(event))
        except Exception:  # the bus is best effort; the database is the record
            logger.exception("could not publish %s on the %s event bus",
                             type(event).__name__, bus.backend)
