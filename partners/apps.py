from django.apps import AppConfig


class PartnersConfig(AppConfig):
    """Who connects: partners, API credentials, scopes, provider connections."""

    name = "partners"
