"""The GraphQL layer: thin types and resolvers over the domain functions, one package per
capability (``portfolio``, ``approvals``, ``finance``, ``sourcing``, ``reports``,
``organisation``) over the shared plumbing in ``core``; ``schema`` composes the roots."""
