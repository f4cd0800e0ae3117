"""gunicorn entry point of the benchmarks: the real gateway plus the P1 reference endpoint."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
settings.ROOT_URLCONF = "bench.naive"
