import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")  # the one setdefault Django needs

django_application = get_wsgi_application()

from core.api.wsgi import charset_guard  # noqa: E402 - Django is set up by the line above

application = charset_guard(django_application)  # a non-text charset would be a 500 before any middleware
