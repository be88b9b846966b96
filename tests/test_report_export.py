"""``spm-api report service ID --format md|json``: a service's stakeholder report, as it
was issued over GraphQL, exported by the command in a separate process against the same
database (SQLite and PostgreSQL); refusals with exit status 2."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from strawberry import relay

from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org
from tests.test_stakeholder_reports import Reports


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def export(database_url: str, tmp_path: Path) -> Any:
    async def run(*arguments: str) -> Run:
        env = {**os.environ, "SPM_DATABASE_URL": database_url}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "spm_api.cli", "report", "service", *arguments,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
            cwd=tmp_path)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
        assert process.returncode is not None
        return Run(process.returncode, stdout.decode(), stderr.decode())

    return run


def number(global_id: str) -> str:
    return relay.GlobalID.from_id(global_id).node_id


async def test_a_report_exports_as_markdown_and_as_the_same_json(
        api: GraphQLClient, org: Org, export: Any, tmp_path: Path) -> None:
    reports = Reports(api, org)
    service_id = await reports.portfolio.chartered("Payroll | HR")
    await reports.register(service_id, Role.VIEWER, "USER_REPRESENTATIVE")
    await reports.update(service_id, objectives="Pay everyone\non time")
    first = await reports.issued(service_id)
    disputed = await reports.dispute(service_id, Role.VIEWER, "payslips | wrong")
    assert disputed["errors"] == []
    second = await reports.issued(service_id)

    as_json = await export(number(service_id), "--org", org.slug, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    content = json.loads(as_json.stdout)
    assert content == second["content"]
    assert content["sequence"] == 2
    assert content["service"]["name"] == "Payroll | HR"
    assert content["current"]["objectives"] == "Pay everyone\non time"
    assert [(a["verdict"], a["comment"]) for a in content["affirmations"]] == [
        ("DISPUTED", "payslips | wrong")]

    as_md = await export(service_id, "--org", org.slug)  # the API's id; md by default
    assert as_md.returncode == 0, as_md.stderr
    markdown = as_md.stdout
    assert markdown == second["markdown"] + "\n"
    assert markdown.startswith("# Stakeholder report 2: Payroll | HR\n")
    for heading in ("## Baseline and now", "### Requirements now", "## Deviations",
                    "## KPIs", "## Stakeholders", "## Affirmations"):
        assert f"\n{heading}\n" in markdown
    assert "| objectives | Resolve incidents | Pay everyone on time |" in markdown
    assert "| OBJECTIVES | CHANGED | objectives | Resolve incidents | Pay everyone on time |" \
        in markdown
    assert "| actual spend to date | — | 0.00 EUR |" in markdown
    assert f"| Viewer of {org.slug} | USER_REPRESENTATIVE |" in markdown
    assert f"| Viewer of {org.slug} | DISPUTED | payslips \\| wrong |" in markdown

    earlier = await export(number(service_id), "--org", org.slug, "--sequence", "1",
                           "--format", "json", "--output", "first.json")
    assert earlier.returncode == 0, earlier.stderr
    assert earlier.stdout == "stakeholder report 1 of 'Payroll | HR' written to first.json\n"
    assert json.loads((tmp_path / "first.json").read_text()) == first["content"]


async def test_refusals_exit_with_status_2(api: GraphQLClient, org: Org, other_org: Org,
                                           export: Any) -> None:
    reports = Reports(api, org)
    service_id = await reports.portfolio.chartered("Payroll")
    nothing_yet = await export(number(service_id), "--org", org.slug)
    assert (nothing_yet.returncode, nothing_yet.stdout) == (2, "")
    assert nothing_yet.stderr == ("error [NOT_FOUND]: no stakeholder report of 'Payroll' "
                                  "has been issued yet (issueStakeholderReport)\n")
    await reports.issued(service_id)
    stranger = await export(number(service_id), "--org", other_org.slug)
    assert (stranger.returncode, stranger.stderr) == (2, "error [NOT_FOUND]: no such service\n")
    unknown_number = await export(number(service_id), "--org", org.slug, "--sequence", "7")
    assert unknown_number.returncode == 2
    assert "no stakeholder report number 7" in unknown_number.stderr
    not_an_id = await export("Payroll", "--org", org.slug)
    assert not_an_id.returncode == 2
    assert not_an_id.stderr.startswith("error [VALIDATION]: 'Payroll' is neither")
    bad_format = await export(number(service_id), "--org", org.slug, "--format", "pdf")
    assert bad_format.returncode == 2
    assert "invalid choice: 'pdf'" in bad_format.stderr
    no_org = await export(number(service_id), "--org", "nobody")
    assert (no_org.returncode, no_org.stderr) == (2, "error [NOT_FOUND]: no organisation "
                                                     "'nobody'\n")
