"""Partner API routes of the notifications app (mounted under /api/v1/ by config/urls.py)."""

urlpatterns: list = []
