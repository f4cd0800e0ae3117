"""The rail's connector modules, one line each (docs/adding-a-provider.md, path 3).

``MobileMoneyConfig.ready()`` imports every module listed here, and each registers its connector
with ``partners.registry`` (``@register("<name>")``). A wallet with a new API is one module and
one line here; a provider of a kind listed here is data (``manage.py add_provider``).
"""

CONNECTOR_MODULES = (
    "mobilemoney.providers.wave",
    "mobilemoney.providers.orange_money",
    "mobilemoney.providers.generic_wallet",
    "mobilemoney.providers.mixx",
)
