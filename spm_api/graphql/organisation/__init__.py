"""The organisation's own settings."""
