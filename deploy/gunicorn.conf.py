"""gunicorn settings for the gateway (used by `make run` and the systemd unit).

Metrics are summed across workers through PROMETHEUS_MULTIPROC_DIR (emptied by whoever
starts the service: `make run`, the systemd unit's ExecStartPre); a dead worker's live
gauges are dropped.
"""

import os
import sys

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
timeout = 60
graceful_timeout = 30
keepalive = 5
accesslog = None  # request logs come from our JSON logging
wsgi_app = "config.wsgi:application"


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)


def post_fork(server, worker):
    # Each worker's threads share one GIL. A thread back from a database or Redis round trip waits
    # for the running thread to give the GIL up, which CPython asks of it every switch interval
    # (5 ms by default): with a dozen round trips per request, most of a request's time was that
    # wait (docs/performance.md §3). A shorter interval hands the GIL over sooner.
    sys.setswitchinterval(float(os.environ.get("PYTHON_SWITCH_INTERVAL_MS", "0.5")) / 1000)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
