"""Domain services: the rules of the portfolio. Knows nothing of GraphQL."""
