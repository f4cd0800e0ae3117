"""Routes of the wave simulator (mounted under /sandbox/wave/)."""

urlpatterns: list = []
