"""Partner API views of the mobile-money rail (DESIGN.md §5)."""
