"""Domain services: the rules of the portfolio and every read, one package per capability
(``portfolio``, ``approvals``, ``finance``, ``sourcing``). Knows nothing of GraphQL."""
