"""SPM API: a GraphQL API for IT service portfolio management."""

__version__ = "0.1.0"
