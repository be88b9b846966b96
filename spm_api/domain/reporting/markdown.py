"""A stakeholder report's content as Markdown: headings and tables people read, with
the same facts as the JSON export (``spm-api report service ID --format md``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

NONE = "—"


def _cell(value: Any) -> str:
    """A table cell: no line breaks, pipes escaped, a dash for nothing."""
    if value is None or value == "":
        return NONE
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ") \
        .replace("\n", " ")


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return lines


def _money(value: Any, currency: str) -> str:
    return NONE if value is None else f"{value} {currency}"


def _requirements(title: str, requirements: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = [f"### {title}", ""]
    if not requirements:
        return [*lines, "None recorded.", ""]
    return [*lines, *_table(["requirement", "necessity"],
                            [(r["text"], r["necessity"]) for r in requirements]), ""]


def render(content: Mapping[str, Any]) -> str:
    """The report as a Markdown document."""
    service = content["service"]
    currency = content["currency"]
    base = content.get("baseline") or {}
    now = content["current"]
    lines = [
        f"# Stakeholder report {content['sequence']}: {service['name']}", "",
        f"- Stage: {service['stage']}",
        f"- Issued: {content['issued_at']} by {content.get('issued_by') or NONE}",
        f"- Currency: {currency}", "",
        "## Baseline and now", "",
    ]
    if not content.get("baseline"):
        lines += ["No baseline was frozen for this service.", ""]
    else:
        lines += [f"Baseline frozen at chartering, {base['frozen_at']}.", ""]
    lines += _table(["", "baseline", "now"], [
        ("objectives", base.get("objectives"), now["objectives"]),
        ("summary", base.get("summary"), now["summary"]),
        ("estimated cost", _money(base.get("estimated_cost"), currency),
         _money(now["estimated_cost"], currency)),
        ("budget", _money(base.get("budget"), currency), _money(now["budget"], currency)),
        ("actual spend to date", NONE, _money(now["actual_spend"], currency)),
    ])
    lines.append("")
    if content.get("baseline"):
        lines += _requirements("Requirements at chartering", base["requirements"])
    lines += _requirements("Requirements now", now["requirements"])

    lines += ["## Deviations", ""]
    if not content["deviations"]:
        lines += ["None: the service is as chartered.", ""]
    else:
        lines += [*_table(["aspect", "change", "subject", "baseline", "now"], [
            (d["aspect"], d["kind"], d["subject"], d["baseline"], d["current"])
            for d in content["deviations"]]), ""]

    lines += ["## KPIs", ""]
    health = content.get("health")
    if health:
        lines += [f"Health: **{health['status']}**: {health['explanation']} "
                  f"(model {health['model']}).", ""]
    else:
        lines += ["No health: only LIVE and RETIRING services are judged.", ""]
    if not content["kpis"]:
        lines += ["No KPIs defined.", ""]
    else:
        lines += [*_table(["KPI", "latest", "measured", "target", "warning", "breach",
                           "status"], [
            (k["name"], None if k["value"] is None else f"{k['value']} {k['unit']}".strip(),
             k["measured"], k["target"], k["warning_threshold"], k["breach_threshold"],
             k["status"]) for k in content["kpis"]]), ""]

    lines += ["## Stakeholders", ""]
    if not content["stakeholders"]:
        lines += ["None registered.", ""]
    else:
        lines += [*_table(["person", "role"], [(s["name"], s["role"])
                                               for s in content["stakeholders"]]), ""]

    lines += ["## Affirmations", ""]
    if not content["affirmations"]:
        lines += ["None given yet.", ""]
    else:
        lines += [*_table(["person", "verdict", "comment or reason", "at", "resolution"], [
            (a["person"], a["verdict"], a["comment"], a["at"],
             None if a["resolution"] is None
             else f"{a['resolution']} ({a['resolved_by']}, {a['resolved_at']})")
            for a in content["affirmations"]]), ""]
    return "\n".join(lines)
