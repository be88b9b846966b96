"""Built-in approval rules."""
