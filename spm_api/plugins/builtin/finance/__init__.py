"""Built-in finance plugins: the scoring model and the charging models."""
