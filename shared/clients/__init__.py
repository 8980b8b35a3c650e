"""Lazily created clients, one per instance. Each module imports its own library only."""
