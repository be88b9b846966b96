"""The shared vocabulary: enums, stages, money, periods and errors.

The bottom layer. Everything else (models, plugin contracts, the domain, GraphQL) speaks
it; it imports nothing of the project.
"""
