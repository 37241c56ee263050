"""Test settings: production settings with test-only keys and fast password hashing."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production")
# A fixed, public Fernet key: tests only.
os.environ.setdefault("SOURCE_SECRETS_KEYS", "r2yxXnB3kfAQQZ2HWkhC4ZbvhWlPgKfX0Jm3xFJ3XNk=")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from dashboard.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
