"""Portfolio reviews over GraphQL."""
