"""Capabilities, contractors, quotes and engagements."""
