import django.db.models.deletion
from django.db import migrations, models


def cover_hours(apps, schema_editor):
    """On PostgreSQL the unique index holds the hours too (an index-only read)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE activity_activehours DROP CONSTRAINT active_hours_person_day, "
            "ADD CONSTRAINT active_hours_person_day UNIQUE (person_id, day) INCLUDE (hours)"
        )


def count_active_hours(apps, schema_editor):
    """Fill the active hours from the stored events (a sum of distinct powers of two is
    their bitwise or)."""
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        day = "(occurred_at AT TIME ZONE 'UTC')::date"
        bit = "(1 << extract(hour FROM occurred_at AT TIME ZONE 'UTC')::int)"
    else:
        day = "date(occurred_at)"
        bit = "(1 << CAST(strftime('%H', occurred_at) AS INTEGER))"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO activity_activehours (person_id, day, hours) "
            f"SELECT person_id, {day}, sum(DISTINCT {bit}) FROM activity_activityevent "
            "WHERE person_id IS NOT NULL GROUP BY 1, 2"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('activity', '0018_alert_pages'),
    ]

    operations = [
        migrations.CreateModel(
            name='ActiveHours',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('hours', models.IntegerField(default=0)),
                ('person', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to='activity.person')),
            ],
            options={
                'verbose_name_plural': 'active hours',
                'constraints': [models.UniqueConstraint(fields=('person', 'day'), name='active_hours_person_day')],
            },
        ),
        migrations.RunPython(cover_hours, migrations.RunPython.noop),
        migrations.RunPython(count_active_hours, migrations.RunPython.noop),
    ]
