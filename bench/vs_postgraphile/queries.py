"""The two pages in each server's GraphQL dialect, and how to read their answers alike.

PostGraphile's schema is generated from the tables, so the same page is spelled with
its relation fields (``stageChangesByServiceId`` ...). Its list of services is filtered
to the organisation by ``condition`` (the API takes it from the token) and ordered by
name, then id, as the API's default order is. Money is the stored scaled BIGINT
(ten-thousandths) there, and its currency is the organisation's, read once per service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_API_SERVICE = """id name stage investmentCategory estimatedCost { amount currency }
      stageChanges { fromStage toStage at actor { name } }
      approval { votes { voter { name } decision } }
      budgetLines { period category amount { amount currency } }"""
_API_DETAIL_EXTRA = """
      requirements { text necessity }
      stakeholderInputs { position comment author { name } }"""

#: The canonical portfolio page of the API.
API_PAGE = f"""{{ services(first: 50) {{ totalCount edges {{ node {{
      {_API_SERVICE}
}} }} }} }}"""
#: One service with everything the page shows plus its requirements and stakeholder input.
API_DETAIL = f"""query Detail($id: ID!) {{ node(id: $id) {{ ... on Service {{
      {_API_SERVICE}{_API_DETAIL_EXTRA}
}} }} }}"""

_PGL_SERVICE = """rowId name stage investmentCategory estimatedCost
      organisationByOrganisationId { currency }
      stageChangesByServiceId(orderBy: PRIMARY_KEY_ASC) { nodes {
        fromStage toStage at personByActorId { name } } }
      approvalRoundsByServiceId(orderBy: PRIMARY_KEY_DESC, first: 1) { nodes {
        votesByRoundId(orderBy: PRIMARY_KEY_ASC) { nodes {
          personByVoterId { name } decision } } } }
      budgetLinesByServiceId(orderBy: PRIMARY_KEY_ASC) { nodes { period category amount } }"""
_PGL_DETAIL_EXTRA = """
      requirementsByServiceId(orderBy: PRIMARY_KEY_ASC) { nodes { text necessity } }
      stakeholderInputRecordsByServiceId(orderBy: PRIMARY_KEY_ASC) { nodes {
        position comment personByAuthorId { name } } }"""

PGL_PAGE = f"""query Page($organisation: Int!) {{
  allServices(condition: {{organisationId: $organisation}}, orderBy: [NAME_ASC, ROW_ID_ASC],
              first: 50) {{ totalCount edges {{ node {{
      {_PGL_SERVICE}
}} }} }} }}"""
PGL_DETAIL = f"""query Detail($id: Int!) {{ serviceByRowId(rowId: $id) {{
      {_PGL_SERVICE}{_PGL_DETAIL_EXTRA}
}} }}"""


@dataclass(frozen=True)
class ServiceSummary:
    """What both answers must agree on with the database, service by service."""

    id: int
    name: str
    stage: str
    stage_changes: int
    votes: int
    budget_lines: int
    requirements: int | None = None
    stakeholder_inputs: int | None = None


def count_leaves(value: Any) -> int:
    """Non-container JSON values: what the page shows, the unit of work per answer."""
    if isinstance(value, dict):
        return sum(count_leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_leaves(v) for v in value)
    return 1


def api_summary(node: dict[str, Any], service_id: int) -> ServiceSummary:
    approval = node["approval"]
    return ServiceSummary(
        id=service_id, name=node["name"], stage=node["stage"],
        stage_changes=len(node["stageChanges"]),
        votes=len(approval["votes"]) if approval else 0,
        budget_lines=len(node["budgetLines"]),
        requirements=len(node["requirements"]) if "requirements" in node else None,
        stakeholder_inputs=(len(node["stakeholderInputs"]) if "stakeholderInputs" in node
                            else None),
    )


def pgl_summary(node: dict[str, Any]) -> ServiceSummary:
    rounds = node["approvalRoundsByServiceId"]["nodes"]
    requirements = node.get("requirementsByServiceId")
    inputs = node.get("stakeholderInputRecordsByServiceId")
    return ServiceSummary(
        id=node["rowId"], name=node["name"], stage=node["stage"],
        stage_changes=len(node["stageChangesByServiceId"]["nodes"]),
        votes=len(rounds[0]["votesByRoundId"]["nodes"]) if rounds else 0,
        budget_lines=len(node["budgetLinesByServiceId"]["nodes"]),
        requirements=len(requirements["nodes"]) if requirements else None,
        stakeholder_inputs=len(inputs["nodes"]) if inputs else None,
    )
