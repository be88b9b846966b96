"""Persisted operations and Automatic Persisted Queries (Apollo's APQ protocol).

Operations are known by the sha256 hex digest of their text. The front end's build
registers its documents in a manifest (``SPM_PERSISTED_OPERATIONS_FILE``); clients send
``extensions.persistedQuery = {version: 1, sha256Hash}`` with or without the text, and
documents registered by APQ are kept in a bounded in-process LRU. With
``SPM_PERSISTED_ONLY`` only the manifest's documents run. Everything here happens
before a document is parsed: a refused one costs a hash at most.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError
from strawberry.http import GraphQLRequestData

if TYPE_CHECKING:
    from spm_api.settings import Settings

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
REQUIRED = "PERSISTED_QUERY_REQUIRED"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
APOLLO_FORMAT = "apollo-persisted-query-manifest"
#: Characters the APQ cache holds at most, whatever its entry count: documents may be
#: as long as a request body, and a thousand of those would not fit in memory.
APQ_CACHE_MAX_CHARS = 16 * 1024 * 1024


class ManifestError(ValueError):
    """The persisted operations file cannot be used; the server must not start."""


def document_hash(query: str) -> str:
    """The sha256 hex digest of the document's text (UTF-8), as Apollo computes it."""
    return hashlib.sha256(query.encode()).hexdigest()


def _entries(data: Any) -> dict[str, Any]:
    """``{hash: document}`` from either manifest format."""
    if not isinstance(data, dict):
        raise ManifestError("expected a JSON object")
    if data.get("format") != APOLLO_FORMAT:
        return data
    if data.get("version") != 1:
        raise ManifestError(f"unsupported {APOLLO_FORMAT} version {data.get('version')!r}")
    operations = data.get("operations")
    if not isinstance(operations, list):
        raise ManifestError('"operations" must be a list')
    entries: dict[str, Any] = {}
    for number, operation in enumerate(operations):
        if not isinstance(operation, dict) or "id" not in operation or "body" not in operation:
            raise ManifestError(f'operation {number} needs an "id" and a "body"')
        entries[str(operation["id"])] = operation["body"]
    return entries


def load_manifest(path: Path) -> dict[str, str]:
    """The manifest's documents by hash; every hash must be its document's sha256."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        documents: dict[str, str] = {}
        for key, query in _entries(data).items():
            if not isinstance(query, str):
                raise ManifestError(f"the document of {key!r} is not a string")
            if key.lower() != document_hash(query):
                raise ManifestError(f"{key!r} is not the sha256 of its document "
                                    f"({document_hash(query)})")
            documents[key.lower()] = query
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ManifestError) as error:
        raise ManifestError(f"SPM_PERSISTED_OPERATIONS_FILE {path}: {error}") from None
    return documents


def refusal(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


class PersistedOperations:
    """Turns a request into the one to run (its document filled in from a hash), or
    the GraphQL error that refuses it."""

    def __init__(self, registered: dict[str, str], *, only: bool, cache_size: int,
                 cache_chars: int = APQ_CACHE_MAX_CHARS) -> None:
        self.registered = registered
        self.only = only
        self.cache_size = cache_size
        self.cache_chars = cache_chars
        self.automatic: OrderedDict[str, str] = OrderedDict()
        self.automatic_chars = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> PersistedOperations:
        """Reads the manifest once, at start: a bad file fails the start."""
        path = settings.persisted_operations_file
        if settings.persisted_only and path is None:
            raise ManifestError("SPM_PERSISTED_ONLY needs SPM_PERSISTED_OPERATIONS_FILE: "
                                "without it no operation could run")
        return cls(load_manifest(path) if path is not None else {},
                   only=settings.persisted_only, cache_size=settings.apq_cache_size)

    def _known(self, digest: str) -> str | None:
        query = self.registered.get(digest)
        if query is None and (query := self.automatic.get(digest)) is not None:
            self.automatic.move_to_end(digest)
        return query

    def _remember(self, digest: str, query: str) -> None:
        """Keeps ``query``, dropping the least recently used past either bound."""
        if digest in self.automatic:
            self.automatic.move_to_end(digest)
            return
        if self.cache_size <= 0 or len(query) > self.cache_chars:
            return
        self.automatic[digest] = query
        self.automatic_chars += len(query)
        while (len(self.automatic) > self.cache_size
               or self.automatic_chars > self.cache_chars):
            self.automatic_chars -= len(self.automatic.popitem(last=False)[1])

    def resolve_payload(self, query: Any, extensions: Any) -> str | GraphQLError:
        """The document to run for a ``query`` and ``extensions`` pair, or a refusal."""
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if persisted is None:
            if not self.only or not isinstance(query, str):
                return query  # type: ignore[no-any-return]  # the executor's to judge
            if document_hash(query) in self.registered:
                return query
            return refusal("Only persisted operations may run", REQUIRED)
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if (not isinstance(persisted, dict) or persisted.get("version") != 1
                or not isinstance(digest, str)):
            return refusal("Unsupported persisted query version", NOT_SUPPORTED)
        digest = digest.lower()
        if query is None:
            known = self._known(digest)
            return known if known is not None else refusal("PersistedQueryNotFound", NOT_FOUND)
        if not isinstance(query, str) or document_hash(query) != digest:
            return refusal("provided sha does not match query", HASH_MISMATCH)
        if digest in self.registered:
            return query
        if self.only:
            return refusal("Only persisted operations may run", REQUIRED)
        self._remember(digest, query)
        return query

    def resolve(self, request_data: GraphQLRequestData) -> GraphQLRequestData | GraphQLError:
        """``request_data`` with its document, or the refusal."""
        query = self.resolve_payload(request_data.query, request_data.extensions)
        if isinstance(query, GraphQLError):
            return query
        if query is request_data.query:
            return request_data
        return dataclasses.replace(request_data, query=query)


def refuse_ws_payload(view: object, payload: Any) -> GraphQLError | None:
    """For a WebSocket ``subscribe`` (or legacy ``start``) payload: fills in its document
    from a hash, or returns the refusal; the view's ``persisted`` sets the rules."""
    persisted: PersistedOperations | None = getattr(view, "persisted", None)
    if persisted is None or not isinstance(payload, dict):
        return None
    query = persisted.resolve_payload(payload.get("query"), payload.get("extensions"))
    if isinstance(query, GraphQLError):
        return query
    payload["query"] = query
    return None
