"""Partner API routes of the ledger: me, transactions, balances (mounted under /api/v1/)."""

urlpatterns: list = []
