from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from activity.models import Source

pytestmark = pytest.mark.django_db
UUID = "3675b69e-8324-4110-bdca-059031aa8da3"


def add_source(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("add_source", *args, stdout=out)
    return out.getvalue()


def test_a_secret_from_the_environment_is_stored_encrypted(monkeypatch):
    monkeypatch.setenv("LIGHTDASH_TOKEN", "pat-from-env-123")
    output = add_source(
        "lightdash",
        "acme-bi",
        "--base-url",
        "https://app.lightdash.cloud/",
        "--param",
        f"project_uuid={UUID}",
        "--secret",
        "token=env:LIGHTDASH_TOKEN",
    )
    source = Source.objects.get(name="acme-bi")
    assert source.secrets == {"token": "pat-from-env-123"}
    assert source.base_url == "https://app.lightdash.cloud"
    assert source.params == {"project_uuid": UUID}
    assert "pat-from-env-123" not in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["salesforce", "x", "--base-url", "https://x.test"], "unknown vendor 'salesforce'"),
        (["datafold", "df", "--base-url", "https://x.test"], "missing secret api_key"),
        (
            [
                "datafold",
                "df",
                "--base-url",
                "https://x.test",
                "--secret",
                "api_key=k",
                "--secret",
                "token=t",
            ],
            "unknown secret token",
        ),
        (
            [
                "datafold",
                "df",
                "--base-url",
                "https://x.test",
                "--secret",
                "api_key=k",
                "--param",
                "colour=blue",
            ],
            "unknown param colour",
        ),
        (
            ["datafold", "df", "--base-url", "ftp://x.test", "--secret", "api_key=k"],
            "not an http(s) URL",
        ),
        (
            ["datafold", "df", "--base-url", "not a url", "--secret", "api_key=k"],
            "not an http(s) URL",
        ),
        (
            ["datafold", "df", "--secret", "api_key=env:UNSET_VARIABLE_X"],
            "UNSET_VARIABLE_X is not set",
        ),
        (["datafold", "bad name!", "--secret", "api_key=k"], "name:"),
        (
            ["velt", "v", "--secret", "api_key=a", "--secret", "auth_token=b"],
            "missing param organization_id",
        ),
        (["datafold", "df", "--secret", "api_key"], "must be KEY=VALUE"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message_and_writes_nothing(args, message):
    with pytest.raises(
        CommandError, match=message.replace("(", r"\(").replace(")", r"\)")
    ) as error:
        add_source(*args)
    assert error.value.returncode == 2
    assert not Source.objects.exists()


def test_a_duplicate_name_is_refused_without_changing_the_first():
    add_source("datafold", "df", "--secret", "api_key=first")
    with pytest.raises(CommandError, match="already exists") as error:
        add_source("datafold", "df", "--secret", "api_key=second")
    assert error.value.returncode == 2
    assert Source.objects.get(name="df").secrets == {"api_key": "first"}


def test_update_changes_only_what_is_given():
    add_source(
        "velt",
        "v",
        "--param",
        "organization_id=org-1",
        "--secret",
        "api_key=a",
        "--secret",
        "auth_token=b",
    )
    add_source("velt", "v", "--update", "--param", "document_id=doc-9", "--secret", "auth_token=c")
    source = Source.objects.get(name="v")
    assert source.params == {"organization_id": "org-1", "document_id": "doc-9"}
    assert source.secrets == {"api_key": "a", "auth_token": "c"}
    assert source.base_url == "https://api.velt.dev"


def test_update_of_a_missing_source_exits_2():
    with pytest.raises(CommandError, match="no source named 'nope'") as error:
        add_source("velt", "nope", "--update", "--secret", "auth_token=c")
    assert error.value.returncode == 2
