"""WSGI entry point: ``gunicorn dashboard.wsgi`` (see the README's production notes)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
application = get_wsgi_application()

from dashboard.checks import require_secrets  # noqa: E402  (needs the settings above)

require_secrets()
