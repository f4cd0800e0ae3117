"""Routes of the fcm simulator (mounted under /sandbox/fcm/)."""

urlpatterns: list = []
