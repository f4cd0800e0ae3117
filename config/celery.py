"""The Celery application (docs/architecture.md §7): JSON only, late acks, named queues."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("addon_partner")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [
    Queue(name) for name in ("payments", "bulk", "callbacks", "notifications", "outbox", "maintenance")
]
app.autodiscover_tasks()

import core.task_context  # noqa: E402,F401  - request ids travel with tasks (signal handlers)
