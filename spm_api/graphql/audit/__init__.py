"""The audit trail as admins read it."""
