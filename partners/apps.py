from django.apps import AppConfig


class PartnersConfig(AppConfig):
    """Who connects: partners, API credentials, scopes, provider connections."""

    name = "partners"

    def ready(self) -> None:
        from partners import schema  # noqa: F401 - registers the OpenAPI auth extension
