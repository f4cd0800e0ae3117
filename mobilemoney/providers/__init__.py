"""Mobile-money connectors behind one interface (``base.MobileMoneyProvider``).

``wave`` and ``orange_money`` register themselves with ``partners.registry`` when
``MobileMoneyConfig.ready()`` imports them; callers build them through the registry only.
"""
