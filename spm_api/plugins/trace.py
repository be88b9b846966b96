"""``SPM_TRACE_PLUGINS``: one INFO line per call into plugin code (which plugin, which
hook, how long, how it ended), so a slow or failing plugin can be found in the logs
without a debugger; inside a traced request (``observability.tracing``), a span per
call too."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from spm_api.observability import tracing
from spm_api.observability.metrics import PLUGIN_CALLS, PLUGIN_SECONDS

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
        """Time the block (the ``spm_plugin_call*`` metrics, always; a log line when
        enabled); an exception leaving it, unless the caller said otherwise, is the
        outcome ``raised <type>``."""
        outcome = Outcome()
        tracer = tracing.active()
        span = None if tracer is None else tracer.start_span(
            f"plugin {plugin} {hook}", attributes={"spm.plugin": plugin, "spm.hook": hook})
        failure: BaseException | None = None
        started = time.perf_counter()
        try:
            yield outcome
        except BaseException as error:
            failure = error
            if outcome.words == OK:
                outcome.words = f"raised {type(error).__name__}"
            raise
        finally:
            seconds = time.perf_counter() - started
            if span is not None:
                tracing.end_call(span, outcome.words, OK, failure)
            PLUGIN_CALLS.labels(plugin, hook, "ok" if outcome.words == OK else "failed").inc()
            PLUGIN_SECONDS.labels(plugin, hook).observe(seconds)
            if self.enabled:
                logger.info("plugin call: plugin=%r hook=%s duration_ms=%.1f outcome=%s",
                            plugin, hook, seconds * 1000, outcome.words)
