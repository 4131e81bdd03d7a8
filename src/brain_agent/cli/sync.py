"""Commands: sync-knowledge-pack (not yet written)."""
