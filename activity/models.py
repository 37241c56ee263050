"""What we store: connected vendor accounts, their normalized events, and every sync attempt."""

from __future__ import annotations

import json
from datetime import timedelta

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from activity.crypto import decrypt_secrets, encrypt_secrets
from activity.vocabulary import Category, Outcome


class Vendor(models.TextChoices):
    LIGHTDASH = "lightdash", "Lightdash"
    DATAFOLD = "datafold", "Datafold"
    DOMO = "domo", "Domo"
    VELT = "velt", "Velt"


class Source(models.Model):
    """One connected vendor account: a Lightdash project, a Domo instance, a Velt org..."""

    vendor = models.CharField(max_length=20, choices=Vendor.choices)
    name = models.SlugField(max_length=100, unique=True, help_text="Used on the command line.")
    base_url = models.URLField(max_length=500)
    params = models.JSONField(
        default=dict, blank=True, help_text="Vendor parameters, e.g. the Lightdash project UUID."
    )
    secrets_encrypted = models.TextField(blank=True, editable=False)
    enabled = models.BooleanField(default=True)
    sync_interval = models.DurationField(default=timedelta(minutes=15))
    initial_lookback = models.DurationField(
        default=timedelta(days=90),
        help_text="How far back a first sync starts where the vendor API needs a start time.",
    )
    overlap = models.DurationField(
        default=timedelta(hours=1),
        help_text="Each run re-reads this much before the high-water mark, for late events.",
    )
    sync_state = models.JSONField(
        default=dict,
        blank=True,
        help_text="Cursor and high-water mark per stream. Edit with care, e.g. for a backfill.",
    )
    lease_holder = models.CharField(max_length=200, blank=True, editable=False)
    lease_acquired_at = models.DateTimeField(null=True, blank=True, editable=False)
    lease_heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    sync_task_id = models.CharField(
        max_length=64, blank=True, editable=False, help_text="The latest queued sync task."
    )
    directory_read_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the vendor's user directory was last read, or tried.",
    )
    directory_error = models.TextField(
        blank=True, editable=False, help_text="Why the user directory could not be read, if so."
    )
    identities_seen_to = models.BigIntegerField(
        null=True,
        blank=True,
        editable=False,
        help_text="The highest event id whose times its identities' first and last seen hold.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_vendor_display()})"

    @property
    def secrets(self) -> dict[str, str]:
        """The decrypted secrets; never render or log this."""
        return decrypt_secrets(self.secrets_encrypted)

    @secrets.setter
    def secrets(self, value: dict[str, str]) -> None:
        self.secrets_encrypted = encrypt_secrets(value) if value else ""

    @property
    def secret_names(self) -> list[str]:
        return sorted(self.secrets)


class Person(models.Model):
    """One person (or service, or vendor's staff) behind identities in any number of sources.
    Linked from the identities (``activity.people``); a person merged into another keeps its
    row, pointing at where it went, so old links and undo still work."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DEACTIVATED = "deactivated", "Deactivated"
        UNKNOWN = "unknown", "Unknown"

    class Kind(models.TextChoices):
        HUMAN = "human", "Human"
        SERVICE = "service", "Service account"
        VENDOR_SUPPORT = "vendor_support", "Vendor support"
        ANONYMOUS = "anonymous", "Anonymous"

    display_name = models.CharField(max_length=255, blank=True)
    primary_email = models.CharField(max_length=254, blank=True, help_text="Lower-cased.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UNKNOWN)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.HUMAN)
    peer_group = models.CharField(
        max_length=100,
        blank=True,
        db_default="",
        help_text="Set by staff (a team or role: finance, data-eng); "
        "detections can hold a group to its own thresholds.",
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged_from"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The people list reads it newest first, never seen last: on PostgreSQL an index in that
    # order (migration 0014; SQLite cannot declare NULLS LAST in an index).
    last_seen_at = models.DateTimeField(
        null=True, blank=True, help_text="The latest event of any of their identities."
    )

    class Meta:
        ordering = ["display_name", "id"]
        indexes = [
            models.Index(fields=["primary_email"], name="person_email"),
            models.Index(fields=["display_name"], name="person_name"),
            models.Index(Lower("display_name"), name="person_name_folded"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.display_name or self.primary_email or f"person {self.pk}"


class Identity(models.Model):
    """One account as a source knows it: a vendor user id, else an email, else no id at all
    (embedded viewers), with the person it belongs to and the rule that linked it."""

    class Rule(models.TextChoices):
        EMAIL = "email", "Same email"
        DIRECTORY = "directory", "Vendor directory"
        OWN = "own", "First of its person"
        STAFF = "staff", "Staff decision"

    ANONYMOUS_KEY = "anonymous"

    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, related_name="identities", db_index=False
    )
    key = models.CharField(
        max_length=300, help_text="The vendor user id, else email:<address>, else anonymous."
    )
    vendor_user_id = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=254, blank=True, help_text="Lower-cased.")
    name = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=20, choices=Person.Status.choices, default=Person.Status.UNKNOWN
    )
    kind = models.CharField(max_length=20, choices=Person.Kind.choices, default=Person.Kind.HUMAN)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="identities"
    )
    rule = models.CharField(max_length=20, choices=Rule.choices, default=Rule.OWN)
    pinned = models.BooleanField(
        default=False, help_text="Placed by staff: re-linking leaves it where it is."
    )
    first_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    directory_seen_at = models.DateTimeField(
        null=True, blank=True, help_text="When the vendor's directory last listed it."
    )

    class Meta:
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(fields=["source", "key"], name="identity_source_key")
        ]
        indexes = [
            models.Index(fields=["email"], name="identity_email"),
            models.Index(fields=["vendor_user_id"], name="identity_vendor_user_id"),
            # Detections read the deactivated accounts after every sync.
            models.Index(
                fields=["person"],
                condition=models.Q(status="deactivated"),
                name="identity_deactivated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.key}"


class PersonDecision(models.Model):
    """A staff decision about people: a merge or a split, with who, when, why and what moved.
    Undoing one marks it undone (and records a decision of its own); nothing is deleted."""

    class Action(models.TextChoices):
        MERGE = "merge", "Merge"
        SPLIT = "split", "Split"

    action = models.CharField(max_length=10, choices=Action.choices)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="decisions", help_text="Kept or new."
    )
    other = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="decisions_as_other",
        help_text="Merged away, or split from.",
    )
    identities = models.JSONField(default=list, help_text="The identity ids that moved.")
    events_moved = models.PositiveBigIntegerField(default=0)
    reason = models.TextField()
    decided_by = models.CharField(max_length=150)
    decided_at = models.DateTimeField(default=timezone.now)
    undone_by = models.CharField(max_length=150, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undo_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.other_id} -> {self.person_id} ({self.decided_by})"


class SyncRun(models.Model):
    """One sync attempt of one source, with what it fetched and how it ended."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    # Served by the (source, -started_at) index.
    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, related_name="runs", db_index=False
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=40, blank=True, help_text="command, schedule, dashboard…")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    since = models.DateTimeField(null=True, blank=True)
    until = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    events_seen = models.PositiveBigIntegerField(default=0)
    events_new = models.PositiveBigIntegerField(default=0)
    records_skipped = models.PositiveIntegerField(default=0)
    skipped_samples = models.JSONField(
        default=list, blank=True, help_text="Why records were skipped (first few)."
    )
    events_changed = models.PositiveBigIntegerField(
        default=0, help_text="Stored events the vendor had changed since (the earlier kept)."
    )
    flag_samples = models.JSONField(
        default=list, blank=True, help_text="Records kept but worth a look, e.g. future times."
    )
    failed_streams = models.JSONField(
        default=list, blank=True, help_text="Streams that failed while the others synced."
    )
    error = models.TextField(blank=True)
    holder = models.CharField(max_length=200, blank=True, help_text="host:pid that ran it.")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["source", "-started_at"], name="syncrun_source_started")]

    def __str__(self) -> str:
        return f"{self.source.name} {self.started_at:%Y-%m-%d %H:%M:%S} {self.status}"

    @property
    def duration(self) -> timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None

    @property
    def events_known(self) -> int:
        return self.events_seen - self.events_new


class ActivityEvent(models.Model):
    """One normalized event from any vendor; ``raw`` keeps the vendor's record as received."""

    # Served by the unique (source, external_id) and the (source, occurred_at) indexes.
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    external_id = models.CharField(max_length=255)
    occurred_at = models.DateTimeField()
    actor_id = models.CharField(max_length=255, blank=True)
    actor_name = models.CharField(max_length=255, blank=True)
    actor_email = models.CharField(max_length=254, blank=True, help_text="Lower-cased.")
    action = models.CharField(max_length=255)
    object_type = models.CharField(max_length=255, blank=True)
    object_id = models.CharField(max_length=255, blank=True)
    object_name = models.CharField(max_length=1000, blank=True)
    summary = models.TextField(blank=True, help_text="The vendor's own description, if any.")
    ip_address = models.CharField(max_length=64, blank=True)
    user_agent = models.TextField(blank=True)
    # JSON text rather than jsonb: kept byte-for-byte as serialized at ingestion, and safe
    # for values PostgreSQL's jsonb refuses (such as \u0000).
    raw = models.TextField()
    ingested_at = models.DateTimeField(default=timezone.now)
    category = models.CharField(
        max_length=20, choices=Category.choices, default=Category.OTHER, db_default=Category.OTHER
    )
    outcome = models.CharField(
        max_length=10, choices=Outcome.choices, default=Outcome.UNKNOWN, db_default=Outcome.UNKNOWN
    )
    # Served by the (person, occurred_at, id) index: the person's timeline. No foreign key
    # in the database: its check is a locking lookup of the person for every event stored,
    # the largest part of what linking added to a page's COPY. The ids come from identities
    # (whose person is a database foreign key), and persons are never deleted (merged ones
    # stay, pointing to where their identities went; PROTECT still guards the ORM).
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="activity_event_source_external_id"
            )
        ]
        indexes = [
            models.Index(fields=["person", "occurred_at", "id"], name="event_person_time"),
            models.Index(fields=["occurred_at", "id"], name="event_time"),
            models.Index(fields=["source", "occurred_at", "id"], name="event_source_time"),
            models.Index(
                fields=["actor_email", "occurred_at", "id"], name="event_actor_email_time"
            ),
            models.Index(fields=["actor_id", "occurred_at", "id"], name="event_actor_id_time"),
            models.Index(fields=["action", "occurred_at", "id"], name="event_action_time"),
            models.Index(fields=["actor_name", "occurred_at", "id"], name="event_actor_name_time"),
            models.Index(
                fields=["object_type", "occurred_at", "id"], name="event_object_type_time"
            ),
            models.Index(fields=["category", "occurred_at", "id"], name="event_category_time"),
            # Failures are rare and asked for often; successes and unknowns are read off the
            # time index. A partial index costs nothing for the rows it leaves out.
            models.Index(
                fields=["occurred_at", "id"],
                name="event_failure_time",
                condition=models.Q(outcome=Outcome.FAILURE),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"

    @property
    def actor_label(self) -> str:
        return self.actor_name or self.actor_email or self.actor_id or "—"

    @property
    def raw_record(self):
        return json.loads(self.raw)


class CoveredWindow(models.Model):
    """The completeness ledger: a stretch of one stream's time that a sync read in full,
    written in the same transaction as the rows it brought."""

    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, related_name="covered_windows", db_index=False
    )
    stream = models.CharField(max_length=40)
    asked_from = models.DateTimeField()
    asked_to = models.DateTimeField()
    rows = models.PositiveIntegerField(help_text="Records the vendor answered for it.")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["source", "asked_to"], name="covered_source_to"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.source_id} {self.stream} {self.asked_from:%Y-%m-%d %H:%M}-{self.asked_to:%H:%M}"
        )


class EventRevision(models.Model):
    """An earlier version of an event the vendor has since changed (edited, renamed)."""

    event = models.ForeignKey(ActivityEvent, on_delete=models.CASCADE, related_name="revisions")
    raw = models.TextField(help_text="The vendor's record as it was stored before.")
    occurred_at = models.DateTimeField()
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-replaced_at", "-id"]

    def __str__(self) -> str:
        return f"event {self.event_id} as before {self.replaced_at:%Y-%m-%d %H:%M}"

    @property
    def raw_record(self):
        return json.loads(self.raw)


class Download(models.Model):
    """The download audit's typed view of a Lightdash download event."""

    event = models.OneToOneField(
        ActivityEvent, on_delete=models.CASCADE, primary_key=True, related_name="download"
    )
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="downloads")
    downloaded_at = models.DateTimeField()
    user_uuid = models.CharField(max_length=255, blank=True)
    user_name = models.CharField(max_length=255, blank=True)
    file_type = models.CharField(max_length=50)
    query_uuid = models.CharField(max_length=255)
    query_context = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["downloaded_at", "event"], name="download_time"),
            # With the user name, a file type's totals read the index alone.
            models.Index(
                fields=["file_type", "downloaded_at"],
                name="download_file_type_time_user",
                include=["user_name"],
            ),
            models.Index(fields=["user_uuid", "downloaded_at"], name="download_user_time"),
            models.Index(fields=["user_name", "downloaded_at"], name="download_user_name_time"),
            models.Index(fields=["query_context", "downloaded_at"], name="download_context_time"),
        ]

    def __str__(self) -> str:
        return f"{self.downloaded_at:%Y-%m-%d %H:%M} {self.user_name or '—'} {self.file_type}"


class UserActivitySnapshot(models.Model):
    """Lightdash's user-activity aggregates as they were at one moment; history comes from many."""

    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="snapshots", db_index=False
    )
    taken_at = models.DateTimeField(default=timezone.now)
    number_users = models.IntegerField(null=True, blank=True)
    number_viewers = models.IntegerField(null=True, blank=True)
    number_interactive_viewers = models.IntegerField(null=True, blank=True)
    number_editors = models.IntegerField(null=True, blank=True)
    number_admins = models.IntegerField(null=True, blank=True)
    weekly_querying_users_percent = models.FloatField(null=True, blank=True)
    raw = models.TextField()

    class Meta:
        ordering = ["-taken_at"]
        get_latest_by = "taken_at"
        indexes = [models.Index(fields=["source", "taken_at"], name="snapshot_source_time")]

    def __str__(self) -> str:
        return f"{self.source.name} at {self.taken_at:%Y-%m-%d %H:%M}"

    @property
    def raw_record(self):
        return json.loads(self.raw)


class DailyActivity(models.Model):
    """Events per UTC day, source, action, object type, category and outcome, kept current as
    events are stored, reclassified or purged.

    Charts and long-range facets read these few rows instead of scanning raw events, and a
    filter on these columns that matches no row here matches no event.
    """

    day = models.DateField()
    source = models.ForeignKey(Source, on_delete=models.CASCADE, db_index=False)
    action = models.CharField(max_length=255)
    object_type = models.CharField(max_length=255, blank=True, default="")
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.OTHER)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.UNKNOWN)
    events = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "source", "action", "object_type", "category", "outcome"],
                name="daily_activity_key",
            )
        ]
        indexes = [models.Index(fields=["action"], name="daily_activity_action")]
        verbose_name_plural = "daily activity"

    def __str__(self) -> str:
        return f"{self.day} {self.source_id} {self.action} {self.object_type}: {self.events}"


class DailyActor(models.Model):
    """Events per UTC day, source and person."""

    day = models.DateField()
    source = models.ForeignKey(Source, on_delete=models.CASCADE, db_index=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, db_index=False)
    events = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "source", "person"], name="daily_actor_day_source_person"
            )
        ]
        indexes = [models.Index(fields=["person", "day"], name="daily_actor_person_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.person_id}: {self.events}"


class WeeklyActor(models.Model):
    """Events per ISO week (its Monday, UTC) and person, across sources: a year of charts reads
    52 rows per person here instead of one per day and source."""

    week = models.DateField()
    person = models.ForeignKey(Person, on_delete=models.CASCADE, db_index=False)
    events = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["week", "person"], name="weekly_actor_week_person")
        ]
        indexes = [models.Index(fields=["person", "week"], name="weekly_actor_person_week")]

    def __str__(self) -> str:
        return f"week of {self.week} {self.person_id}: {self.events}"


class ActorCategory(models.Model):
    """Every event a person ever had, by category: the person page's activity per category."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, db_index=False)
    category = models.CharField(max_length=20, choices=Category.choices)
    events = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "category"], name="actor_category_person")
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.category}: {self.events}"


class HourlyActor(models.Model):
    """Exports per clock hour (UTC) and person, across sources: a person's busiest hour of
    exports read from at most 24 rows a day instead of their events. Only the ``export``
    category is counted (the bulk export rule is its reader); the column keeps the key open."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, db_index=False)
    hour = models.DateTimeField()
    category = models.CharField(max_length=20, choices=Category.choices)
    events = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            # On PostgreSQL it also holds the counts (migration 0016): a person's exports of a
            # month are read from the index alone.
            models.UniqueConstraint(
                fields=["person", "category", "hour"], name="hourly_actor_person_hour"
            )
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.person_id} {self.category}: {self.events}"


class ActiveHours(models.Model):
    """The UTC clock hours of a day in which a person did anything, across sources, as bits
    (hour h is ``1 << h``): a month of someone's working hours is at most 30 small rows."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, db_index=False)
    day = models.DateField()
    hours = models.IntegerField(default=0)

    class Meta:
        verbose_name_plural = "active hours"
        constraints = [
            # On PostgreSQL it also holds the hours (migration 0019).
            models.UniqueConstraint(fields=["person", "day"], name="active_hours_person_day")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.person_id}: {self.hours:024b}"


class WeeklyPeople(models.Model):
    """How many people were active in each ISO week: the rows of ``WeeklyActor`` per week,
    counted as they appear and disappear, so a year of weeks is 52 rows to read."""

    week = models.DateField(unique=True)
    people = models.BigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "weekly people"

    def __str__(self) -> str:
        return f"week of {self.week}: {self.people} people"


class ActorTotal(models.Model):
    """Every event a person ever had, across sources: read busiest first, it bounds what any
    period can hold, so the most active people of a period are found without summing everyone."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="total")
    events = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["-events", "person"], name="actor_total_busiest_person")]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.events}"


class DailyDownload(models.Model):
    """Downloads per UTC day, source and file type: the download audit's file-type totals."""

    day = models.DateField()
    source = models.ForeignKey(Source, on_delete=models.CASCADE, db_index=False)
    file_type = models.CharField(max_length=50)
    downloads = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "source", "file_type"], name="daily_download_day_source_type"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.file_type}: {self.downloads}"


class DailyDownloader(models.Model):
    """Downloads per UTC day and user name (all sources): the edges of a range of weeks."""

    day = models.DateField()
    user_name = models.CharField(max_length=255)
    downloads = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "user_name"], name="daily_downloader_day_user")
        ]
        indexes = [models.Index(fields=["user_name", "day"], name="daily_downloader_user_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.user_name}: {self.downloads}"


class DownloaderTotal(models.Model):
    """Every download a user name ever had: the bound that finds a period's top downloaders
    without summing everyone's (see ``dashboard.top``)."""

    user_name = models.CharField(max_length=255, unique=True)
    downloads = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["-downloads", "user_name"], name="downloader_total_busiest")
        ]

    def __str__(self) -> str:
        return f"{self.user_name}: {self.downloads}"


class WeeklyDownloader(models.Model):
    """Downloads per ISO week (its Monday) and user name: the download audit's person totals."""

    week = models.DateField()
    user_name = models.CharField(max_length=255)
    downloads = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["week", "user_name"], name="weekly_downloader_week_user"
            )
        ]
        indexes = [models.Index(fields=["user_name", "week"], name="weekly_downloader_user_week")]

    def __str__(self) -> str:
        return f"week of {self.week} {self.user_name}: {self.downloads}"


# Detections' models live beside their rules; imported here so they belong to this app.
from activity.detections.models import (  # noqa: E402, F401
    Alert,
    AlertEvidence,
    Baseline,
    BaselineDay,
    DeactivationSighting,
    Delivery,
    Destination,
    DetectionCursor,
    Rule,
)
