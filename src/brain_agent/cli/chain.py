"""Commands: the spec chain (not yet written)."""
