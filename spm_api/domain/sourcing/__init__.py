"""Sourcing: capabilities, the contractor registry, quotes and engagement requests."""
