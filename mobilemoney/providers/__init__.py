"""Mobile-money connectors behind one interface (``base.MobileMoneyProvider``).

The modules listed in ``installed.CONNECTOR_MODULES`` register themselves with
``partners.registry`` when ``MobileMoneyConfig.ready()`` imports them; callers build them
through the registry only.
"""
