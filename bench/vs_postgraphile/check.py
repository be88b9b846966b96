"""Before anything is timed: each server's answer must say what the database says.

Service by service, in order: the same ids, names and stages, and as many stage
changes, current votes of the latest approval round and budget lines (and, on the
detail page, requirements and stakeholder inputs). A difference stops the run.
"""

from __future__ import annotations

import asyncio
import base64
import sys
from typing import Any

import asyncpg
import httpx
from queries import ServiceSummary, api_summary, count_leaves, pgl_summary
from servers import Server

_EXPECTED = """
SELECT s.id, s.name, s.stage,
       (SELECT count(*) FROM stage_change c WHERE c.service_id = s.id) AS stage_changes,
       (SELECT count(DISTINCT v.voter_id) FROM vote v WHERE v.round_id =
           (SELECT max(r.id) FROM approval_round r WHERE r.service_id = s.id)) AS votes,
       (SELECT count(*) FROM budget_line b WHERE b.service_id = s.id) AS budget_lines,
       (SELECT count(*) FROM requirement q WHERE q.service_id = s.id) AS requirements,
       (SELECT count(*) FROM stakeholder_input i WHERE i.service_id = s.id) AS inputs
FROM service s WHERE s.organisation_id = $1 AND ($2::int IS NULL OR s.id = $2)
ORDER BY s.name, s.id LIMIT 50"""


async def expected(plain_url: str, organisation_id: int, service_id: int | None = None
                   ) -> list[ServiceSummary]:
    """The database's own answer, straight from the tables."""
    connection = await asyncpg.connect(plain_url)
    try:
        rows = await connection.fetch(_EXPECTED, organisation_id, service_id)
    finally:
        await connection.close()
    detail = service_id is not None
    return [ServiceSummary(row["id"], row["name"], row["stage"], row["stage_changes"],
                           row["votes"], row["budget_lines"],
                           row["requirements"] if detail else None,
                           row["inputs"] if detail else None) for row in rows]


async def service_count(plain_url: str, organisation_id: int) -> int:
    connection = await asyncpg.connect(plain_url)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM service WHERE organisation_id = $1", organisation_id)
    finally:
        await connection.close()
    return count


def api_row_id(global_id: str) -> int:
    """The row id inside a relay global id (base64 of ``Type:id``)."""
    return int(base64.b64decode(global_id).decode().rsplit(":", 1)[1])


def api_global_id(type_name: str, row_id: int) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def ask(server: Server, page: str) -> tuple[dict[str, Any], int]:
    """The answer and its size in bytes."""
    response = httpx.post(server.url, json=server.bodies[page], headers=server.headers,
                          timeout=60)
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or body.get("errors"):
        sys.exit(f"{server.label} {page}: {response.status_code} {body}")
    return body, len(response.content)


def summaries(server: Server, page: str, body: dict[str, Any]) -> list[ServiceSummary]:
    data = body["data"]
    if server.kind == "api":
        nodes = ([edge["node"] for edge in data["services"]["edges"]] if page == "portfolio"
                 else [data["node"]])
        return [api_summary(node, api_row_id(node["id"])) for node in nodes]
    nodes = ([edge["node"] for edge in data["allServices"]["edges"]] if page == "portfolio"
             else [data["serviceByRowId"]])
    return [pgl_summary(node) for node in nodes]


def verify(server: Server, page: str, plain_url: str, organisation_id: int,
           detail_service_id: int) -> dict[str, int]:
    """Stop the run unless ``server`` answers ``page`` as the database does; return
    the answer's size (leaf values, bytes) for the per-leaf figures."""
    body, size = ask(server, page)
    got = summaries(server, page, body)
    want = asyncio.run(expected(plain_url, organisation_id,
                                detail_service_id if page == "detail" else None))
    if server.kind == "api":  # the API speaks of stages by their names: the stored values
        got = [ServiceSummary(**{**vars(s), "stage": s.stage.upper()}) for s in got]
    if got != want:
        for mine, theirs in zip(got, want, strict=False):
            if mine != theirs:
                print(f"  {server.label} says {mine}\n  the database says {theirs}",
                      file=sys.stderr)
                break
        sys.exit(f"{server.label} {page}: the answer differs from the database "
                 f"({len(got)} services against {len(want)})")
    if page == "portfolio":
        connection = body["data"]["services" if server.kind == "api" else "allServices"]
        total = asyncio.run(service_count(plain_url, organisation_id))
        if connection["totalCount"] != total:
            sys.exit(f"{server.label}: totalCount {connection['totalCount']}, not {total}")
    if not want or (page == "portfolio" and not any(s.votes and s.budget_lines for s in want)):
        sys.exit(f"{page}: the demo data is too thin to compare anything")
    return {"leaf_values": count_leaves(body["data"]),
            "response_bytes": size,
            "services": len(got)}
