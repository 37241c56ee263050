import django.db.models.deletion
from django.db import migrations, models


def cover_counts(apps, schema_editor):
    """On PostgreSQL the unique index holds the counts too (an index-only read)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE activity_hourlyactor DROP CONSTRAINT hourly_actor_person_hour, "
            "ADD CONSTRAINT hourly_actor_person_hour "
            "UNIQUE (person_id, category, hour) INCLUDE (events)"
        )


def count_hours(apps, schema_editor):
    """Fill the hourly rollup (exports) from the stored events, in one statement."""
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        hour = "date_trunc('hour', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    else:
        hour = "strftime('%Y-%m-%d %H:00:00', occurred_at)"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO activity_hourlyactor (person_id, hour, category, events) "
            f"SELECT person_id, {hour}, category, count(*) FROM activity_activityevent "
            "WHERE person_id IS NOT NULL AND category = 'export' GROUP BY 1, 2, 3"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('activity', '0015_detections'),
    ]

    operations = [
        migrations.CreateModel(
            name='HourlyActor',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('hour', models.DateTimeField()),
                ('category', models.CharField(choices=[('authentication', 'Authentication'), ('read', 'Read'), ('export', 'Export'), ('create', 'Create'), ('update', 'Update'), ('delete', 'Delete'), ('permission', 'Permission'), ('configuration', 'Configuration'), ('collaboration', 'Collaboration'), ('other', 'Other')], max_length=20)),
                ('events', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.AddIndex(
            model_name='identity',
            index=models.Index(condition=models.Q(('status', 'deactivated')), fields=['person'], name='identity_deactivated'),
        ),
        migrations.AddField(
            model_name='hourlyactor',
            name='person',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to='activity.person'),
        ),
        migrations.AddConstraint(
            model_name='hourlyactor',
            constraint=models.UniqueConstraint(fields=('person', 'category', 'hour'), name='hourly_actor_person_hour'),
        ),
        migrations.RunPython(cover_counts, migrations.RunPython.noop),
        migrations.AddField(
            model_name='person',
            name='peer_group',
            field=models.CharField(blank=True, db_default='', help_text='Set by staff (a team or role: finance, data-eng); detections can hold a group to its own thresholds.', max_length=100),
        ),
        migrations.RunPython(count_hours, migrations.RunPython.noop),
    ]
