"""gunicorn settings for `make serve`; each value can be overridden from the environment.

gthread workers: several processes (one crash or slow request does not stall the others), each
with a few threads, and one persistent, health-checked database connection per thread
(CONN_MAX_AGE, CONN_HEALTH_CHECKS in annotator/settings.py).
"""

from __future__ import annotations

import multiprocessing
import os

# Only the local reverse proxy (which terminates HTTPS) talks to gunicorn.
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# gunicorn's usual 2 × cores + 1, capped: the work is database-bound, and every worker thread
# holds a PostgreSQL connection.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 2))
# Large imports run in the background worker, so no request should take this long.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
# Recycle workers now and then so a slow leak cannot grow for weeks.
max_requests = 2000
max_requests_jitter = 200
# Trust X-Forwarded-* only from the proxy on this machine.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = "-"
# The combined log format, plus the time taken and the request id the app answered with
# (X-Request-ID), so an access line can be matched with the app's log records of that request.
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms '
    "request_id=%({x-request-id}o)s"
)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# gunicorn's control socket sits at one fixed path per user, so a second gunicorn on the same
# machine (a load test beside `make serve`) would clash with the first; nothing here uses it.
control_socket_disable = True
