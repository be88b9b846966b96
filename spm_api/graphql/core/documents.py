"""Parsing and validating documents once: the same checks and caches for the executor
and the planned read path, so both accept exactly the same documents.

The limit rules (depth counting every field, cost, aliases) are classes built once per
setting: a validation cache is keyed on them, so a rule class made per request would
never hit it. Who may introspect depends on the request (a token or not), so it adds
one of two fixed refusal rules, and each document is validated once per case.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    parse,
)
from graphql.validation import specified_rules
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from spm_api.graphql.core.limits import (
    IntrospectionDisabled,
    IntrospectionNeedsToken,
    alias_limit,
    cost_limit,
    depth_limit,
)

if TYPE_CHECKING:
    from spm_api.settings import Settings

Rule = type[ASTValidationRule]


class DocumentChecks:
    """Bounded caches of parsed and validated documents, keyed by the query text (and,
    for validation, the parsed document and the introspection refusal, if any)."""

    def __init__(self, *, max_depth: int, max_introspection_depth: int, max_cost: int,
                 page_size: int, list_size: int, max_aliases: int, max_tokens: int,
                 introspection: str, cache_size: int) -> None:
        self.rules: tuple[Rule, ...] = (
            *specified_rules,
            depth_limit(max_depth, max_introspection_depth),
            cost_limit(max_cost, page_size, list_size),
            alias_limit(max_aliases),
        )
        self.max_tokens = max_tokens
        self.introspection = introspection
        self.parse = lru_cache(maxsize=cache_size)(self._parse)
        self.errors = lru_cache(maxsize=cache_size)(self._errors)

    def _parse(self, query: str) -> DocumentNode:
        """The document, or a syntax error with a code: ``TOO_MANY_TOKENS`` over
        ``SPM_MAX_TOKENS``, ``GRAPHQL_PARSE_FAILED`` otherwise."""
        try:
            return parse(query, max_tokens=self.max_tokens)
        except GraphQLSyntaxError as error:
            too_long = "tokens" in error.message and "Parsing aborted" in error.message
            extensions: dict[str, Any] = (
                {"code": "TOO_MANY_TOKENS", "maxTokens": self.max_tokens} if too_long
                else {"code": "GRAPHQL_PARSE_FAILED"})
            raise GraphQLError(error.message, source=error.source, positions=error.positions,
                               extensions=extensions) from None

    def _errors(self, schema: GraphQLSchema, document: DocumentNode,
                refusal: Rule | None = None) -> tuple[GraphQLError, ...]:
        rules = self.rules if refusal is None else (*self.rules, refusal)
        return tuple(coded(error) for error in validate_document(schema, document, rules))

    def refusal(self, authenticated: bool) -> Rule | None:
        """The introspection refusal that applies: ``SPM_INTROSPECTION`` ``on`` lets
        anyone introspect, ``authenticated`` only requests with a valid token, ``off``
        nobody."""
        if self.introspection == "off":
            return IntrospectionDisabled
        if self.introspection == "authenticated" and not authenticated:
            return IntrospectionNeedsToken
        return None

    def validate(self, schema: GraphQLSchema, document: DocumentNode, authenticated: bool
                 ) -> tuple[GraphQLError, ...]:
        refusal: Any = self.refusal(authenticated)  # a class, hashable by identity
        return self.errors(schema, document, refusal)

    def cache_info(self) -> tuple[Any, Any]:
        """The parse and validation caches' statistics (``functools`` cache info)."""
        return self.parse.cache_info(), self.errors.cache_info()


def coded(error: GraphQLError) -> GraphQLError:
    """A validation error with a code: the limit rules give their own, GraphQL's rules
    (unknown fields, values of the wrong type, ...) ``GRAPHQL_VALIDATION_FAILED``."""
    if error.extensions and "code" in error.extensions:
        return error
    return GraphQLError(error.message, nodes=error.nodes, source=error.source,
                        positions=error.positions, path=error.path,
                        extensions={**(error.extensions or {}),
                                    "code": "GRAPHQL_VALIDATION_FAILED"})


@lru_cache(maxsize=8)
def _checks(**limits: Any) -> DocumentChecks:
    return DocumentChecks(**limits)


def document_checks(settings: Settings) -> DocumentChecks:
    """The checks for these settings, one instance per process and set of limits."""
    return _checks(max_depth=settings.max_query_depth,
                   max_introspection_depth=settings.max_introspection_depth,
                   max_cost=settings.max_query_cost, page_size=settings.max_page_size,
                   list_size=settings.cost_list_size, max_aliases=settings.max_aliases,
                   max_tokens=settings.max_tokens, introspection=settings.introspection,
                   cache_size=settings.document_cache_size)


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
        authenticated = getattr(context.context, "actor", None) is not None
        context.pre_execution_errors = list(self.checks.validate(
            context.schema._schema, context.graphql_document, authenticated))
        yield
