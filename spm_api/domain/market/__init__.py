"""The market: spaces, segments, customer needs, service offerings and subscriptions."""
