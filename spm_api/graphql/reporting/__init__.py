"""Reporting back to stakeholders: who they are for each service."""
