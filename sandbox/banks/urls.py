"""Routes of the banks simulator (mounted under /sandbox/banks/)."""

urlpatterns: list = []
