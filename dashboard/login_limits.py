"""Sign-in rate limits: too many failures for a username or from an address block sign-in
for a while. Failures are rows in the database, so the limit holds across web processes."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.shortcuts import render
from django.utils import timezone

from dashboard.models import LoginFailure

LOGIN_VIEWS = {"login", "admin:login"}


def client_ip(request) -> str | None:
    header = getattr(settings, "LOGIN_CLIENT_IP_HEADER", "")
    value = request.META.get(header, "") if header else ""
    # A proxy appends: the last address is the one the proxy itself saw.
    value = value.split(",")[-1].strip() or request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _window() -> timedelta:
    return timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)


def login_blocked_for(*, username: str, ip: str | None) -> timedelta | None:
    """How long sign-in stays blocked for this username or address (None: not blocked)."""
    since = timezone.now() - _window()
    recent = LoginFailure.objects.filter(at__gte=since)
    waits = []
    for rows, limit in (
        (recent.filter(username=username.casefold()), settings.LOGIN_FAILURE_LIMIT),
        (recent.filter(ip_address=ip) if ip else None, settings.LOGIN_FAILURE_LIMIT_PER_IP),
    ):
        if rows is None or not limit:
            continue
        times = list(rows.order_by("-at").values_list("at", flat=True)[:limit])
        if len(times) >= limit:
            # Blocked until the oldest of the last ``limit`` failures leaves the window.
            waits.append(times[-1] + _window() - timezone.now())
    return max(waits) if waits else None


def login_failure_record(*, username: str, ip: str | None) -> None:
    LoginFailure.objects.filter(at__lt=timezone.now() - _window()).delete()
    LoginFailure.objects.create(username=username.casefold()[:150], ip_address=ip)


def login_failures_clear(*, username: str) -> None:
    LoginFailure.objects.filter(username=username.casefold()).delete()


@receiver(user_login_failed)
def _on_failure(sender, credentials, request=None, **kwargs) -> None:
    if request is not None:
        username = str(credentials.get("username", ""))
        login_failure_record(username=username, ip=client_ip(request))


@receiver(user_logged_in)
def _on_success(sender, request, user, **kwargs) -> None:
    login_failures_clear(username=user.get_username())


class LoginRateLimitMiddleware:
    """Answers 429 to a sign-in attempt (dashboard or admin) while its limit is reached."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if request.method != "POST" or not match or match.view_name not in LOGIN_VIEWS:
            return None
        username = request.POST.get("username", "")
        wait = login_blocked_for(username=username, ip=client_ip(request))
        if wait is None:
            return None
        minutes = max(1, -(-int(wait.total_seconds()) // 60))
        response = render(
            request, "registration/too_many_attempts.html", {"minutes": minutes}, status=429
        )
        response["Retry-After"] = str(max(1, int(wait.total_seconds())))
        return response
