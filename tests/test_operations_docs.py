"""``docs/operations.md`` names every setting and every metric the API has: an operator
reads it, not the code."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY

import spm_api.observability.metrics  # noqa: F401  (registers the metrics)
from spm_api.settings import Settings

DOCS = (Path(__file__).parent.parent / "docs" / "operations.md").read_text()


def test_every_setting_is_documented() -> None:
    missing = [f"SPM_{name.upper()}" for name in Settings.model_fields
               if f"`SPM_{name.upper()}`" not in DOCS]
    assert missing == [], f"docs/operations.md lacks settings: {missing}"


def test_every_metric_is_documented() -> None:
    names = {metric.name for metric in REGISTRY.collect() if metric.name.startswith("spm_")}
    names |= {"spm_outbox_backlog", "spm_outbox_oldest_due_seconds"}  # read per scrape
    missing = sorted(name for name in names
                     if f"`{name}`" not in DOCS and f"`{name}_total`" not in DOCS)
    assert missing == [], f"docs/operations.md lacks metrics: {missing}"
