"""Sign-in rate limits, counted in the database so that every web process sees them."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from dashboard.models import LoginFailure
from tests.activity.test_commands import PROJECT, subprocess_env

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(db):
    return User.objects.create_superuser("boss", password="right-password")


def attempt(password: str, username: str = "boss", ip: str = "203.0.113.5", url: str = ""):
    client = Client(REMOTE_ADDR=ip)
    return client.post(url or reverse("login"), {"username": username, "password": password})


def test_after_five_failures_for_a_username_even_the_right_password_waits(settings, boss):
    settings.LOGIN_FAILURE_LIMIT = 5
    for _ in range(5):
        response = attempt("wrong", ip="203.0.113.5")
        assert response.status_code == 200 and response.context["form"].errors
    blocked = attempt("right-password", ip="198.51.100.9")  # from elsewhere, too
    assert blocked.status_code == 429
    assert b"Too many sign-in attempts" in blocked.content
    assert int(blocked["Retry-After"]) > 0
    assert "_auth_user_id" not in blocked.wsgi_request.session


def test_the_block_lifts_when_the_window_passes(settings, boss):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        attempt("wrong")
    assert attempt("right-password").status_code == 429
    LoginFailure.objects.update(at=LoginFailure.objects.first().at - timedelta(minutes=16))
    assert attempt("right-password").status_code == 302


def test_other_usernames_are_not_blocked_by_someone_elses_failures(settings, boss):
    settings.LOGIN_FAILURE_LIMIT = 3
    User.objects.create_user("other", password="other-password")
    for _ in range(3):
        attempt("wrong", ip="203.0.113.5")
    assert attempt("other-password", username="other", ip="203.0.113.6").status_code == 302


def test_many_usernames_from_one_address_block_that_address(settings, boss):
    settings.LOGIN_FAILURE_LIMIT_PER_IP = 10
    for index in range(10):
        attempt("wrong", username=f"guess{index}", ip="203.0.113.7")
    assert attempt("right-password", ip="203.0.113.7").status_code == 429
    assert attempt("right-password", ip="203.0.113.8").status_code == 302


def test_usernames_are_counted_case_folded(settings, boss):
    settings.LOGIN_FAILURE_LIMIT = 3
    for name in ("boss", "BOSS", "Boss"):
        attempt("wrong", username=name)
    assert attempt("right-password").status_code == 429


def test_a_successful_sign_in_clears_the_count(settings, boss):
    settings.LOGIN_FAILURE_LIMIT = 3
    attempt("wrong")
    attempt("wrong")
    assert attempt("right-password").status_code == 302
    attempt("wrong")
    attempt("wrong")
    assert attempt("right-password").status_code == 302


def test_the_admin_sign_in_shares_the_limit(settings, boss):
    settings.LOGIN_FAILURE_LIMIT = 3
    admin_login = reverse("admin:login")
    for _ in range(2):
        assert attempt("wrong", url=admin_login).status_code == 200
    attempt("wrong")  # the third, on the dashboard's page
    assert attempt("right-password", url=admin_login).status_code == 429


@pytest.mark.django_db(transaction=True)
def test_failures_in_another_web_process_count_here(settings, boss):
    settings.LOGIN_FAILURE_LIMIT = 4
    script = (
        "from django.test import Client\n"
        "for _ in range(4):\n"
        "    Client(REMOTE_ADDR='203.0.113.9').post("
        "'/login/', {'username': 'boss', 'password': 'wrong'})\n"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=PROJECT,
        env={**subprocess_env(), "ALLOWED_HOSTS": "testserver"},
        check=True,
        timeout=120,
    )
    assert LoginFailure.objects.count() == 4
    assert attempt("right-password").status_code == 429
