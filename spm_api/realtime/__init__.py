"""Live updates: committed events on an event bus, and the subscriptions that read
them back for each subscriber."""
