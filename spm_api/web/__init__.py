"""The browser side of the API: GraphiQL served from its own origin."""
