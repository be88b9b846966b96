"""Market spaces, segments, customer needs, service offerings, the catalogue and subscriptions."""
