"""Services of the mobile-money rail (one module per sub-domain)."""
