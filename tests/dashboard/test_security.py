"""Hostile users: every URL behind login and permission, CSRF, redirects, secrets, fuzzing."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote, urlsplit

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from activity.models import ActivityEvent, Person, Source, SyncRun
from activity.sync.engine import sync_source
from dashboard import params
from tests.dashboard.conftest import make_data

pytestmark = pytest.mark.django_db
SECRET_TOKEN = "sekret-token-value-1234"


@pytest.fixture
def world(db):
    """The data every URL needs: events, downloads, a snapshot, a source with secrets, a run."""
    sources = make_data()
    secret_source = Source(vendor="datafold", name="with-secret", base_url="https://x.test")
    secret_source.secrets = {"api_key": SECRET_TOKEN}
    secret_source.save()
    SyncRun.objects.create(source=secret_source, status=SyncRun.Status.FAILED, error="boom")
    return {"sources": sources, "secret_source": secret_source}


def dashboard_get_urls(world) -> list[str]:
    event = ActivityEvent.objects.filter(source=world["sources"]["datafold"]).first()
    return [
        reverse("activity"),
        reverse("activity_export", args=["jsonl"]),
        reverse("activity_export", args=["csv"]),
        reverse("activity_detail", args=[event.pk]),
        reverse("downloads"),
        reverse("users"),
        reverse("person", args=[event.person_id]),
        reverse("person_by_key", args=[event.actor_email]),
        reverse("sources"),
    ]


def admin_get_urls() -> list[str]:
    urls = [reverse("admin:index"), reverse("admin:password_change")]
    for model in admin.site._registry:
        meta = model._meta
        prefix = f"admin:{meta.app_label}_{meta.model_name}"
        urls.append(reverse("admin:app_list", args=[meta.app_label]))
        urls.append(reverse(f"{prefix}_changelist"))
        urls.append(reverse(f"{prefix}_add"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            for action in ("change", "history", "delete"):
                urls.append(reverse(f"{prefix}_{action}", args=[first.pk]))
    return sorted(set(urls))


def post_urls(world) -> list[str]:
    source = world["secret_source"]
    return [
        reverse("source_sync", args=[source.pk]),
        reverse("logout"),
        reverse("admin:logout"),
        reverse("admin:activity_source_add"),
        reverse("admin:activity_source_change", args=[source.pk]),
        reverse("admin:activity_source_delete", args=[source.pk]),
        reverse("admin:password_change"),
    ]


def logged_in(user: User, **client_options) -> Client:
    client = Client(**client_options)
    client.force_login(user)
    return client


@pytest.fixture
def nobody(db):
    return logged_in(User.objects.create_user("nobody", password="pw"))


@pytest.fixture
def viewer(db):
    user = User.objects.create_user("viewer", password="pw")
    user.user_permissions.add(Permission.objects.get(codename="view_activityevent"))
    return logged_in(user)


@pytest.fixture
def boss(db):
    return logged_in(User.objects.create_superuser("boss", password="pw"))


# -- login and permission, URL by URL ----------------------------------------------------------
def test_anonymous_visitors_are_sent_to_log_in_from_every_url(world, client):
    assert client.get(reverse("home"))["Location"] == reverse("activity")  # and on to log in
    for url in dashboard_get_urls(world):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url
    for url in admin_get_urls():
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url
    response = client.post(reverse("source_sync", args=[world["secret_source"].pk]))
    assert response.status_code == 302 and not SyncRun.objects.filter(trigger="dashboard").exists()


def test_a_user_without_permission_is_refused_everywhere(world, nobody):
    for url in dashboard_get_urls(world):
        assert nobody.get(url).status_code == 403, url
    for url in admin_get_urls():  # not staff: the admin sends them to its own login
        response = nobody.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url
    assert nobody.post(post_urls(world)[0]).status_code == 403


def test_a_viewer_reads_the_dashboard_but_neither_manages_nor_enters_the_admin(world, viewer):
    for url in dashboard_get_urls(world):
        assert viewer.get(url, follow=True).status_code == 200, url
    for url in admin_get_urls():
        response = viewer.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url
    assert viewer.post(post_urls(world)[0]).status_code == 403


def test_staff_without_model_permissions_are_refused_in_the_admin(world):
    staff = logged_in(User.objects.create_user("staff", password="pw", is_staff=True))
    for url in admin_get_urls():
        if url in (reverse("admin:index"), reverse("admin:password_change")):
            continue
        # An app they may not see is a 404, a model page a 403.
        assert staff.get(url).status_code in (403, 404), url


# -- CSRF ---------------------------------------------------------------------------------------
def test_every_post_without_a_csrf_token_is_refused(world):
    boss = User.objects.create_superuser("boss", password="pw")
    for url in post_urls(world):
        client = logged_in(boss, enforce_csrf_checks=True)
        assert client.post(url, {"name": "x"}).status_code == 403, url
    anonymous = Client(enforce_csrf_checks=True)
    for url in (reverse("login"), reverse("admin:login")):
        response = anonymous.post(url, {"username": "boss", "password": "pw"})
        assert response.status_code == 403, url
    assert Source.objects.filter(pk=world["secret_source"].pk).exists()
    assert not SyncRun.objects.filter(trigger="dashboard").exists()


def test_a_post_with_the_csrf_token_is_accepted(world):
    User.objects.create_superuser("boss", password="pw")
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("login"))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        reverse("login"), {"username": "boss", "password": "pw", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


# -- redirects ----------------------------------------------------------------------------------
OFF_SITE = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    " https://evil.example/",
    "http://testserver.evil.example/",
]


def assert_on_site(response) -> None:
    assert response.status_code == 302
    location = response["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc and location.startswith("/"), location
    assert not location.startswith(("//", "/\\")), location


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_never_redirects_off_site(world, target):
    User.objects.create_user("someone", password="pw")
    for url in (reverse("login"), reverse("admin:login")):
        client = Client()
        response = client.post(
            url + "?next=" + quote(target), {"username": "someone", "password": "pw"}
        )
        if url == reverse("admin:login"):  # not staff: the form refuses, no redirect at all
            assert response.status_code == 200
            continue
        assert_on_site(response)
        response = client.post(url, {"username": "someone", "password": "pw", "next": target})
        assert_on_site(response)


@pytest.mark.parametrize("target", OFF_SITE)
def test_logout_never_redirects_off_site(world, boss, target):
    assert_on_site(boss.post(reverse("logout") + "?next=" + quote(target)))
    boss.force_login(User.objects.get(username="boss"))
    assert_on_site(boss.post(reverse("logout"), {"next": target}))


# -- secrets ------------------------------------------------------------------------------------
def secret_values(world) -> list[str]:
    source = Source.objects.get(pk=world["secret_source"].pk)
    return [
        SECRET_TOKEN,
        source.secrets_encrypted,
        settings.SECRET_KEY,
        *settings.SOURCE_SECRETS_KEYS,
    ]


def test_secrets_are_in_no_page_admin_page_export_or_error_page(world, boss):
    urls = [*dashboard_get_urls(world), *admin_get_urls()]
    urls += [
        reverse("activity_detail", args=[10**9]),  # 404
        reverse("activity") + "?cursor=forged",  # 400
        reverse("admin:activity_source_change", args=[world["secret_source"].pk]),
    ]
    for url in urls:
        response = boss.get(url)
        body = (
            b"".join(response.streaming_content) if response.streaming else response.content
        ).decode()
        for secret in secret_values(world):
            assert secret not in body, f"a secret in {url}"


def test_a_server_error_page_shows_no_secret(world, boss, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError(f"failed with key {SECRET_TOKEN}")

    monkeypatch.setattr("dashboard.selectors.source_health", explode)
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username="boss"))
    response = client.get(reverse("sources"))
    assert response.status_code == 500
    for secret in secret_values(world):
        assert secret not in response.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("vendor", ["lightdash", "datafold", "domo", "velt"])
def test_secrets_never_reach_the_logs_or_the_exports(vendor, source_for, caplog):
    from activity.simulator import VendorSimulator

    with VendorSimulator(events_per_vendor=60, seed=23) as sim:
        source = source_for(sim, vendor)
        good = dict(source.secrets)
        for name in ("httpx", "httpcore", "activity", "django"):
            caplog.set_level(logging.DEBUG, logger=name)
        with caplog.at_level(logging.DEBUG):
            assert sync_source(source).status == SyncRun.Status.SUCCEEDED
            source = Source.objects.get(pk=source.pk)
            source.secrets = {key: value + "-wrong" for key, value in good.items()}
            source.save()
            failed = sync_source(source)
        assert failed.status == SyncRun.Status.FAILED
    viewer = logged_in(User.objects.create_superuser("boss", password="pw"))
    exports = [
        b"".join(viewer.get(reverse("activity_export", args=[fmt])).streaming_content).decode()
        for fmt in ("jsonl", "csv")
    ]
    assert caplog.records
    for secret in [*good.values(), *source.secrets.values()]:
        assert secret not in caplog.text
        assert secret not in failed.error
        assert all(secret not in export for export in exports)


# -- fuzzing the filters and cursors -------------------------------------------------------------
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
VALUE = st.one_of(
    TEXT,
    st.sampled_from(["", "0", "-1", "9" * 30, "2026-02-30", "24h", "csv", "UTC", "\x00", "%"]),
    st.integers().map(str),
)
LIST_PARAMS = [
    params.VENDOR,
    params.SOURCE,
    params.PERSON,
    params.ACTION,
    params.OBJECT_TYPE,
    params.RANGE,
    params.DATE_FROM,
    params.DATE_TO,
    params.TEXT,
    params.CURSOR,
    params.TIMEZONE,
]
FUZZED = {
    "activity": LIST_PARAMS,
    "activity_export_jsonl": LIST_PARAMS,
    "activity_export_csv": LIST_PARAMS,
    "downloads": [
        *LIST_PARAMS,
        params.FILE_TYPE,
        params.CONTEXT,
        params.PAGE,
    ],
    "users": [params.PERIOD, params.TIMEZONE, params.SOURCE, params.VENDOR],
    "person": [params.CURSOR, params.TIMEZONE],
}
FUZZ = hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def fuzzed_url(name: str, key: str) -> str:
    if name.startswith("activity_export_"):
        return reverse("activity_export", args=[name.rsplit("_", 1)[1]])
    if name == "person":
        return reverse("person", args=[Person.objects.order_by("id").first().pk])
    return reverse(name)


@pytest.mark.parametrize("name", sorted(FUZZED))
def test_any_filter_or_cursor_value_is_a_200_or_a_400(data, name):
    viewer = User.objects.create_user("fuzzer", password="pw")
    viewer.user_permissions.add(Permission.objects.get(codename="view_activityevent"))
    client = Client(raise_request_exception=False)
    client.force_login(viewer)

    @FUZZ
    @given(
        query=st.dictionaries(st.sampled_from(FUZZED[name]), st.lists(VALUE, max_size=2)),
        key=TEXT.filter(lambda text: text.strip("/") != "" and "/" not in text),
        htmx=st.booleans(),
    )
    def check(query, key, htmx):
        headers = {"HX-Request": "true"} if htmx else {}
        response = client.get(fuzzed_url(name, key), query, headers=headers)
        if response.streaming:
            b"".join(response.streaming_content)
        assert response.status_code in (200, 400), (query, key, response.status_code)

    check()


def test_any_old_person_link_redirects_or_is_not_found(data, viewer):
    @FUZZ
    @given(key=TEXT.filter(lambda text: text.strip("/") != "" and "/" not in text))
    def check(key):
        response = viewer.get(reverse("person_by_key", args=[key]))
        # Digits alone are a person's id (the person page, or its 404).
        allowed = (200, 404) if re.fullmatch(r"[0-9]+", key) else (302, 404)
        assert response.status_code in allowed, (key, response.status_code)

    check()
    found = viewer.get(reverse("person_by_key", args=["PERSON1@example.com"]))
    person = Person.objects.get(primary_email="person1@example.com")
    assert found.status_code == 302 and found.url == reverse("person", args=[person.pk])


def test_fuzzing_reaches_real_results(data, viewer):
    """The fuzz test would be vacuous if every value were refused: valid ones are 200."""
    response = viewer.get(reverse("activity"), {params.VENDOR: "velt", params.RANGE: "7d"})
    assert response.status_code == 200 and response.context["page"].rows
    assert re.search(r"<tr", response.content.decode())
