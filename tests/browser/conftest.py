from __future__ import annotations

import os
import shutil

import pytest
from django.contrib.auth.models import User

from tests.dashboard.conftest import make_data

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Playwright's sync API runs an event loop in this thread; the ORM calls in the tests are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium is not installed (bash .ci/setup installs Debian's package)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def data(transactional_db):
    # Committed, so the live server's own connection sees it.
    return make_data()


@pytest.fixture
def page(browser, live_server, data):
    User.objects.create_superuser("admin", password="admin-password")
    context = browser.new_context(accept_downloads=True, timezone_id="UTC")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "admin-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/activity/")
    page.problems = problems
    yield page
    context.close()
