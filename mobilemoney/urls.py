"""Partner API routes of the mobilemoney app (mounted under /api/v1/ by config/urls.py)."""

urlpatterns: list = []
