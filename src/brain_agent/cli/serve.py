"""Commands: serve (not yet written)."""
