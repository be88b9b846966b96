"""People and access: inviting people, their roles, deactivation, and API tokens
(created, listed, rotated, revoked). Authentication itself is ``domain.tokens``."""
