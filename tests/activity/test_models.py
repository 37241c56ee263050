from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from activity.crypto import SecretsUnreadable
from activity.models import ActivityEvent, Person, Source

pytestmark = pytest.mark.django_db


def event(source: Source, external_id: str) -> ActivityEvent:
    return ActivityEvent(
        source=source,
        external_id=external_id,
        occurred_at=datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
        action="download",
        raw="{}",
    )


def test_the_database_refuses_a_second_event_with_the_same_external_id(make_source):
    source = make_source()
    event(source, "evt-1").save()
    with pytest.raises(IntegrityError), transaction.atomic():
        event(source, "evt-1").save()
    assert ActivityEvent.objects.count() == 1


def test_the_same_external_id_may_exist_in_two_sources(make_source):
    event(make_source("one"), "evt-1").save()
    event(make_source("two"), "evt-1").save()
    assert ActivityEvent.objects.count() == 2


def test_secrets_are_encrypted_at_rest(make_source):
    source = make_source(secrets={"token": "plain-text-token-123"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets_encrypted FROM activity_source WHERE id = %s", [source.pk])
        (stored,) = cursor.fetchone()
    assert "plain-text-token-123" not in stored
    assert Source.objects.get(pk=source.pk).secrets == {"token": "plain-text-token-123"}


def test_secrets_under_another_key_are_unreadable_with_a_clear_error(make_source, settings):
    from activity import crypto

    source = make_source()
    settings.SOURCE_SECRETS_KEYS = ["Dq7k1yXW9m2mK6sQ0m8n8w3o0h4tC1pOeJ9n6yq2s1E="]
    crypto._fernet.cache_clear()
    try:
        with pytest.raises(SecretsUnreadable, match="SOURCE_SECRETS_KEYS"):
            _ = Source.objects.get(pk=source.pk).secrets
    finally:
        crypto._fernet.cache_clear()


def test_keys_can_be_rotated_by_putting_the_new_key_first(make_source, settings):
    from activity import crypto

    source = make_source(secrets={"token": "t"})
    settings.SOURCE_SECRETS_KEYS = [
        "Dq7k1yXW9m2mK6sQ0m8n8w3o0h4tC1pOeJ9n6yq2s1E=",
        *settings.SOURCE_SECRETS_KEYS,
    ]
    crypto._fernet.cache_clear()
    try:
        assert Source.objects.get(pk=source.pk).secrets == {"token": "t"}
    finally:
        crypto._fernet.cache_clear()


def test_a_person_with_events_cannot_be_deleted_without_a_database_foreign_key(make_source):
    # The event's person has no foreign key in the database (a check for every event
    # stored); the ORM still protects it, and persons are never deleted anyway.
    person = Person.objects.create(display_name="Ada", primary_email="ada@example.com")
    stored = event(make_source(), "evt-1")
    stored.person = person
    stored.save()
    with pytest.raises(ProtectedError):
        person.delete()
    assert ActivityEvent.objects.get().person == person
