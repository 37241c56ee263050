"""Domo events keyed by their stable fields (ids, time, action), not by every field.

Keys used to hash every field, display names included, so a renamed card would come back
as a second event. Stored Domo events are re-keyed the way the connector now keys them, so
that the next sync's re-read of its overlap finds them instead of adding them again.
"""

from __future__ import annotations

import json

from django.db import migrations

BATCH = 1000


def rekey_domo_events(apps, schema_editor):
    from activity.connectors.domo import DomoConnector, ranked
    from activity.sync.errors import RecordError

    ActivityEvent = apps.get_model("activity", "ActivityEvent")
    Source = apps.get_model("activity", "Source")
    for source in Source.objects.filter(vendor="domo"):
        connector = DomoConnector(source)
        changed, group, group_time = [], [], None

        def flush():
            parsed = []
            for event in group:
                try:
                    parsed.append((connector.parse(json.loads(event.raw)), event))
                except (RecordError, ValueError):
                    continue
            by_content = {}
            for normalized, event in parsed:
                by_content.setdefault(json.dumps(normalized.raw, sort_keys=True), []).append(
                    event
                )
            for normalized in ranked([normalized for normalized, _ in parsed]):
                twins = by_content[json.dumps(normalized.raw, sort_keys=True)]
                # An identical twin already holding the key keeps it (no swap, no clash).
                event = next(
                    (twin for twin in twins if twin.external_id == normalized.external_id),
                    twins[-1],
                )
                twins.remove(event)
                if event.external_id != normalized.external_id:
                    event.external_id = normalized.external_id
                    changed.append(event)
            if len(changed) >= BATCH:
                ActivityEvent.objects.bulk_update(changed, ["external_id"])
                changed.clear()

        events = ActivityEvent.objects.filter(source_id=source.pk).order_by("occurred_at", "id")
        for event in events.only("id", "external_id", "raw", "occurred_at").iterator(BATCH):
            if event.occurred_at != group_time:
                flush()
                group, group_time = [], event.occurred_at
            group.append(event)
        flush()
        ActivityEvent.objects.bulk_update(changed, ["external_id"])


class Migration(migrations.Migration):
    # Each batch of keys is written on its own: millions of Domo events are never re-keyed in one
    # transaction, and an interrupted run is finished by running it again (keys are recomputed).
    atomic = False
    dependencies = [("activity", "0010_event_revisions_and_run_guards")]

    operations = [migrations.RunPython(rekey_domo_events, migrations.RunPython.noop)]
