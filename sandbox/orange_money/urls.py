"""Routes of the orange_money simulator (mounted under /sandbox/orange-money/)."""

urlpatterns: list = []
