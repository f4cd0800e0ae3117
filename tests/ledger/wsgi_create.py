"""gunicorn entry point serving the test-only creating endpoint (tests/ledger/urls_create.py)."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
settings.ROOT_URLCONF = "tests.ledger.urls_create"
