"""Built-in behaviour for live services: the default health model."""
