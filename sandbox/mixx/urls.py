"""The Mixx simulator's endpoints: the generic wallet's, in Mixx's dialect."""

from sandbox.generic_wallet.views import urlpatterns_for
from sandbox.mixx.simulator import MIXX

urlpatterns = urlpatterns_for(MIXX)
