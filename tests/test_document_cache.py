"""Parsed and validated documents are reused across requests, and the caches holding
them stay bounded however many distinct documents arrive."""

from __future__ import annotations

from typing import Any

from spm_api.graphql.core.documents import document_checks
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from tests.support import GraphQLClient, Org


async def test_documents_are_cached_and_the_caches_bounded(
        api: GraphQLClient, org: Org, settings: Settings) -> None:
    size = settings.document_cache_size
    checks = document_checks(settings)
    parsed: Any = checks.parse  # functools.lru_cache wrappers
    validated: Any = checks.errors
    token = org.token(Role.VIEWER)

    query = "{ viewer { name } }"
    await api.data(query, token=token)
    hits = parsed.cache_info().hits, validated.cache_info().hits
    await api.data(query, token=token)
    assert parsed.cache_info().hits == hits[0] + 1, "the second request reuses the parse"
    assert validated.cache_info().hits == hits[1] + 1, "and the validation"

    for number in range(size + 50):  # distinct documents: aliases make each one new
        await api.data(f"{{ n{number}: viewer {{ name }} }}", token=token)
    assert parsed.cache_info().currsize <= size
    assert validated.cache_info().currsize <= size
