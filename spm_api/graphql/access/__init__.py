"""People and access: the people of the organisation, their roles and API tokens."""
