"""Stewardship of live services: KPIs, their measurements (recorded, imported, pulled
from measurement sources, or worked out from the books) and the health they add up to."""
