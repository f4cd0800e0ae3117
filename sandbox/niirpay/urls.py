"""Routes of the niirpay simulator (mounted under /sandbox/niirpay/)."""

urlpatterns: list = []
