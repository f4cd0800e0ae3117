"""Partner API views of the mobile-money rail (docs/architecture.md §5)."""
