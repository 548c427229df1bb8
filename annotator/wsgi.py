"""WSGI entry point for gunicorn and other WSGI servers."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
# Web processes get the short database timeouts (annotator/db_timeouts.py); manage.py commands,
# the worker among them, keep the long ones. An empty value (a copied .env.example) means unset.
if not os.environ.get("DATABASE_TIMEOUTS_ROLE"):
    os.environ["DATABASE_TIMEOUTS_ROLE"] = "web"

application = get_wsgi_application()
