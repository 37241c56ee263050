from __future__ import annotations

from django.db import models


class LoginFailure(models.Model):
    """One failed sign-in; counted in the database so every web process sees the same count."""

    username = models.CharField(max_length=150, help_text="As typed, case-folded.")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["username", "at"], name="login_failure_username"),
            models.Index(fields=["ip_address", "at"], name="login_failure_ip"),
        ]

    def __str__(self) -> str:
        return f"{self.username} from {self.ip_address} at {self.at:%Y-%m-%d %H:%M:%S}"
