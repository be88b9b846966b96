"""``SPM_TRACE_PLUGINS``: one INFO line per call into plugin code (which plugin, which
hook, how long, how it ended), so a slow or failing plugin can be found in the logs
without a debugger."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

logger = logging.getLogger("spm_api.plugins")

OK = "ok"


@dataclass(slots=True)
class Outcome:
    """How a call ended; the caller sets it when it turns a failure into its own error
    (a time limit, a refused answer), which is then not taken for the cause."""

    words: str = OK


@dataclass(frozen=True, slots=True)
class Trace:
    enabled: bool

    @contextmanager
    def call(self, plugin: str, hook: str) -> Iterator[Outcome]:
        """Time the block; an exception leaving it, unless the caller said otherwise, is
        the outcome ``raised <type>``."""
        outcome = Outcome()
        if not self.enabled:
            yield outcome
            return
        started = time.perf_counter()
        try:
            yield outcome
        except BaseException as error:
            if outcome.words == OK:
                outcome.words = f"raised {type(error).__name__}"
            raise
        finally:
            logger.info("plugin call: plugin=%r hook=%s duration_ms=%.1f outcome=%s",
                        plugin, hook, (time.perf_counter() - started) * 1000, outcome.words)
