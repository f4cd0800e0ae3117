"""The provider simulators' URLs; each simulator mounts itself under /sandbox/<provider>/."""

urlpatterns: list = []
