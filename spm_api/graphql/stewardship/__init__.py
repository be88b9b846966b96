"""GraphQL for the stewardship of live services: KPIs, measurements and health."""
