"""Shared GraphQL plumbing: context, loaders, ids, pagination, the unit of work, errors,
extensions, execution, permissions and the WebSocket handler."""
