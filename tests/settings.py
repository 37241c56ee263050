"""Test settings: production settings with test-only keys and fast password hashing."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production")
# A fixed, public Fernet key: tests only.
os.environ.setdefault("SOURCE_SECRETS_KEYS", "r2yxXnB3kfAQQZ2HWkhC4ZbvhWlPgKfX0Jm3xFJ3XNk=")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# Never the developer's .env (its DEBUG=1 would change what the tests see); commands the tests
# run as subprocesses inherit this too.
os.environ["ENV_FILE"] = ""

from dashboard.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Vendor retries: the same logic, shorter waits.
SYNC_RETRY_POLICY = {"backoff_base": 0.01, "backoff_max": 0.2, "budget": 10.0, "timeout": 5.0}

# A file, not memory, so that commands run as subprocesses share the test database.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}  # noqa: F405
