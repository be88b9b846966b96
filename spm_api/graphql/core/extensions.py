"""Schema extensions: request session lifecycle, masking of unexpected errors, and who
may introspect."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterator

from graphql import ASTValidationRule
from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.types.graphql import OperationType

from spm_api.db.replica import LSN_HEADER
from spm_api.graphql.core.limits import IntrospectionDisabled, IntrospectionNeedsToken
from spm_api.observability.requests import current_request_id, note_operation
from spm_api.vocabulary.errors import DomainError

log = logging.getLogger("spm_api.errors")


class CloseSession(SchemaExtension):
    """Close the request's session once the operation is done, whatever happened. The
    response is built by then: a failure to close is logged, never sent (its text is
    the database driver's)."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        try:
            await self.execution_context.context.close()
        except Exception:  # the connection is discarded by the pool; the answer stands
            log.exception("closing the request's session failed")


class ReadReplica(SchemaExtension):
    """A query over HTTP reads the replica (when its routing allows), decided once its
    operation is known and before any field resolves; mutations, their payloads and
    subscriptions keep the primary. Installed only with a replica configured."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution_context = self.execution_context
        context = execution_context.context
        request = context.request
        if (execution_context.operation_type is OperationType.QUERY and request is not None
                and request.scope.get("type") == "http"):
            await context.read_replica(request.headers.get(LSN_HEADER))
        yield


class NoteOperation(SchemaExtension):
    """Tell the request in progress (metrics, the log line) which operation the
    executor ran and whether its answer holds errors: once per operation."""

    def on_operation(self) -> Iterator[None]:
        yield
        execution_context = self.execution_context
        try:
            kind: str | None = execution_context.operation_type.value
        except RuntimeError:  # no document: it did not parse
            kind = None
        result = execution_context.result
        failed = result is None or bool(getattr(result, "errors", None))
        note_operation(execution_context.operation_name if kind else None, kind,
                       "error" if failed else "ok")


class CodeDomainErrors(SchemaExtension):
    """A domain refusal reaching GraphQL from anywhere (an input's id check, a read) is
    an expected error: its code, message and field, never masked."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [coded(error) for error in result.errors]


def coded(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if not isinstance(original, DomainError) or (error.extensions or {}).get("code"):
        return error
    problem = original.problems[0]
    return GraphQLError(problem.message, nodes=error.nodes, source=error.source,
                        positions=error.positions, path=error.path, original_error=original,
                        extensions={"code": problem.code.value, "field": problem.field})


def is_expected(error: GraphQLError) -> bool:
    """Errors we raise on purpose carry an extensions code; GraphQL's own have no
    original error. Everything else is a bug, and is masked."""
    if error.original_error is None:
        return True
    return bool(error.extensions and "code" in error.extensions)


class MaskUnexpectedErrors(MaskErrors):
    """Replace unexpected errors with a message holding an id that is also logged."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: not is_expected(error))

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        error_id = uuid.uuid4().hex[:12]
        request_id = current_request_id()
        log.error("unexpected error %s at %s (request %s)", error_id, error.path, request_id,
                  exc_info=error.original_error)
        extensions: dict[str, object] = {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id}
        said = f"Internal error (id {error_id}); it has been logged."
        if request_id is not None:
            extensions["requestId"] = request_id
            said = f"Internal error (id {error_id}, request {request_id}); it has been logged."
        return GraphQLError(
            message=said,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions=extensions,
        )


def introspection_policy(policy: str) -> type[SchemaExtension]:
    """An extension adding the refusal ``policy`` calls for: ``on`` lets anyone
    introspect, ``authenticated`` only requests with a valid token, ``off`` nobody. The
    rules are fixed classes, so each document is validated once per case."""

    class IntrospectionPolicy(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            execution_context = self.execution_context
            refusal: type[ASTValidationRule] | None = None
            if policy == "off":
                refusal = IntrospectionDisabled
            elif policy == "authenticated" and execution_context.context.actor is None:
                refusal = IntrospectionNeedsToken
            if refusal is not None:
                execution_context.validation_rules = (*execution_context.validation_rules,
                                                      refusal)
            yield

    return IntrospectionPolicy
