"""Commands: budget (not yet written)."""
