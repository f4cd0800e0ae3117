from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """The outside world, simulated: provider simulators speaking the real wire formats."""

    name = "sandbox"
