"""Commands: batch (not yet written)."""
