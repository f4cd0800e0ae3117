"""Python client of the Addon Partner API (standard library only)."""
