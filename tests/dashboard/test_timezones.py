"""The viewer's time zone, as the page's script stores it: URL-encoded in the ``tz`` cookie."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.timezones import zone_named


@pytest.mark.parametrize(
    ("value", "zone"),
    [
        ("America%2FNew_York", "America/New_York"),  # encodeURIComponent's form
        ("America/New_York", "America/New_York"),
        ("Asia%2FKolkata", "Asia/Kolkata"),
        ("UTC", "UTC"),
        ("Not%2FA_Zone", "UTC"),
        ("..%2F..%2Fetc%2Fpasswd", "UTC"),
        ("%E0%A4%A", "UTC"),
        ("America%252FNew_York", "UTC"),  # decoded once, not until it stops changing
        ("", "UTC"),
        (None, "UTC"),
    ],
)
def test_a_zone_name_is_decoded_and_anything_unknown_is_utc(value, zone):
    assert zone_named(value).key == zone


@pytest.mark.django_db
def test_the_cookie_the_script_sets_gives_the_viewer_their_zone(client):
    client.cookies["tz"] = "America%2FNew_York"
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert response.wsgi_request.viewer_tz.key == "America/New_York"


@pytest.mark.django_db
def test_a_bad_cookie_falls_back_to_utc_without_an_error(client):
    client.cookies["tz"] = "Mars%2FOlympus_Mons%00"
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert response.wsgi_request.viewer_tz.key == "UTC"


@pytest.mark.django_db
def test_the_query_parameter_wins_over_the_cookie(client):
    client.cookies["tz"] = "America%2FNew_York"
    response = client.get(reverse("login"), {"tz": "Pacific/Auckland"})
    assert response.wsgi_request.viewer_tz.key == "Pacific/Auckland"
