"""ideas."""
