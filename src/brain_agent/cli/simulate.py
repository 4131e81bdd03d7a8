"""Commands: simulate (not yet written)."""
