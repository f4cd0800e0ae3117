"""The generic-wallet simulator under /sandbox/generic-wallet/ (docs/providers/generic-wallet.yaml)."""

from sandbox.generic_wallet.dialect import GENERIC_WALLET
from sandbox.generic_wallet.views import urlpatterns_for

urlpatterns = urlpatterns_for(GENERIC_WALLET)
