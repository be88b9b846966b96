"""Parsing and validating documents once: the same checks and caches for the executor
and the planned read path, so both accept exactly the same documents.

Strawberry's limiters build a new rule class per instance, which would make every
request's rules new to a validation cache; here the rules are built once per setting.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from graphql.validation import specified_rules
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.schema.schema import validate_document

#: The most tokens a document may have.
MAX_TOKENS = 5000
#: The most aliases a document may use.
MAX_ALIASES = 30


class DocumentChecks:
    """Bounded caches of parsed and validated documents, keyed by the query text (and,
    for validation, the parsed document), with this API's limit rules."""

    def __init__(self, max_depth: int, cache_size: int) -> None:
        self.rules: tuple[type[ASTValidationRule], ...] = (
            *specified_rules,
            *QueryDepthLimiter(max_depth=max_depth).validation_rules,
            *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
        )
        self.parse = lru_cache(maxsize=cache_size)(self._parse)
        self.errors = lru_cache(maxsize=cache_size)(self._errors)

    @staticmethod
    def _parse(query: str) -> DocumentNode:
        return parse(query, max_tokens=MAX_TOKENS)

    def _errors(self, schema: GraphQLSchema, document: DocumentNode) -> tuple[GraphQLError, ...]:
        return tuple(validate_document(schema, document, self.rules))

    def cache_info(self) -> tuple[Any, Any]:
        """The parse and validation caches' statistics (``functools`` cache info)."""
        return self.parse.cache_info(), self.errors.cache_info()


@lru_cache(maxsize=8)
def document_checks(max_depth: int, cache_size: int) -> DocumentChecks:
    """The checks for these settings, one instance per process."""
    return DocumentChecks(max_depth, cache_size)


class CheckedDocuments(SchemaExtension):
    """The executor's parse and validation, through ``DocumentChecks``."""

    def __init__(self, checks: DocumentChecks) -> None:
        super().__init__()
        self.checks = checks

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            context.graphql_document = self.checks.parse(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        context.pre_execution_errors = list(
            self.checks.errors(context.schema._schema, context.graphql_document))
        yield
