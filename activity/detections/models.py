"""What detections store: each rule's settings, the alerts they raise with their evidence, and
the bookkeeping that makes evaluation idempotent and resumable.

Imported by ``activity.models``, so these are models of the ``activity`` app."""

from __future__ import annotations

import struct

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from activity.crypto import decrypt_secrets, encrypt_secrets
from activity.models import ActivityEvent, Identity, Person, Source


class RuleName(models.TextChoices):
    BULK_EXPORT = "bulk_export", "Bulk export"
    VENDOR_SUPPORT_ACCESS = "vendor_support_access", "Vendor support access"
    FAILED_SIGNIN_BURST = "failed_signin_burst", "Failed sign-in burst"
    ACTIVE_AFTER_DEACTIVATION = "active_after_deactivation", "Active after deactivation"
    UNUSUAL_HOURS = "unusual_hours", "Unusual hours"
    SENSITIVE_CHANGE = "sensitive_change", "Sensitive change"


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


SEVERITY_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3}


class Rule(models.Model):
    """One built-in rule's switch and thresholds (a missing key takes the rule's default)."""

    name = models.CharField(max_length=40, choices=RuleName.choices, unique=True)
    enabled = models.BooleanField(default=True)
    thresholds = models.JSONField(
        default=dict, blank=True, help_text="Only the thresholds that differ from the defaults."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.get_name_display()

    def clean(self) -> None:
        from activity.detections.registry import rule_settings_from

        try:
            rule_settings_from(self.name, self.thresholds or {})
        except ValueError as error:
            raise ValidationError({"thresholds": str(error)}) from None


class Alert(models.Model):
    """What a rule found: who, when, how many events, why, and where triage stands.

    One alert per rule and group (a person's hour, day or session): later events of the same
    group join it as evidence, and the rules never change its state or delete it."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"
        FALSE_POSITIVE = "false_positive", "False positive"

    rule = models.CharField(max_length=40, choices=RuleName.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    # Served by the (person, rule, last_event_at) index.
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alerts",
        db_index=False,
    )
    subject = models.CharField(
        max_length=255, blank=True, help_text="What it is about when not one person: an IP."
    )
    group_key = models.CharField(max_length=300, editable=False)
    first_event_at = models.DateTimeField()
    last_event_at = models.DateTimeField()
    events = models.PositiveIntegerField(default=0)
    explanation = models.TextField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.OPEN)
    triaged_by = models.CharField(max_length=150, blank=True)
    triaged_at = models.DateTimeField(null=True, blank=True)
    triage_note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_event_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "group_key"], name="alert_rule_group")
        ]
        indexes = [
            models.Index(fields=["last_event_at", "id"], name="alert_last_event"),
            models.Index(fields=["state", "last_event_at", "id"], name="alert_state_last_event"),
            models.Index(fields=["person", "rule", "last_event_at"], name="alert_person_rule"),
            # The alerts page: a rule's list and the capped count of each rule's alerts (the
            # severity in the index, so a count by severity never reads the table).
            models.Index(
                fields=["rule", "state", "last_event_at", "id"],
                include=["severity"],
                name="alert_rule_state",
            ),
            # The alerts page's filter by an IP address (alerts about no one person).
            models.Index(
                fields=["subject", "last_event_at", "id"],
                name="alert_subject",
                condition=~models.Q(subject=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} #{self.pk} ({self.severity}, {self.state})"


class AlertEvidence(models.Model):
    """One event behind an alert. Where the event came from is copied, so an alert keeps its
    evidence's names after retention purges the event itself (hence no database constraint:
    the purge deletes events in raw batches)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="evidence")
    event = models.ForeignKey(
        ActivityEvent, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    source = models.ForeignKey(
        Source, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    external_id = models.CharField(max_length=255)
    occurred_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "alert evidence"
        constraints = [
            models.UniqueConstraint(fields=["alert", "event"], name="alert_evidence_pair")
        ]
        # An alert's page lists its evidence newest first, in keyset pages.
        indexes = [models.Index(fields=["alert", "occurred_at", "id"], name="alert_evidence_time")]

    def __str__(self) -> str:
        return f"alert {self.alert_id}: event {self.event_id}"


class DetectionCursor(models.Model):
    """How far the rules have evaluated a source's events (by id), moved in the same
    transaction as the alerts that batch raised: a killed evaluation resumes after the last
    batch it committed, and nothing is evaluated twice."""

    source = models.OneToOneField(
        Source, on_delete=models.CASCADE, primary_key=True, related_name="detection_cursor"
    )
    evaluated_to = models.BigIntegerField(default=0)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.source_id} up to event {self.evaluated_to}"


class DeactivationSighting(models.Model):
    """When detections first saw an identity deactivated in its vendor's directory: the
    identity's ``directory_seen_at`` at the first evaluation that found it deactivated (the
    directory keeps only its latest listing, so this is kept here, once)."""

    identity = models.OneToOneField(
        Identity, on_delete=models.CASCADE, primary_key=True, related_name="deactivation_sighting"
    )
    first_seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.identity_id} deactivated, first seen {self.first_seen_at:%Y-%m-%d %H:%M}"


class Destination(models.Model):
    """Where alerts are sent: an email list or a webhook, for some rules from a severity up.

    A webhook's shared secret is stored encrypted like the sources' secrets and is never
    shown again; it signs every request (see the README's Notifications section)."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    enabled = models.BooleanField(default=True)
    rules = models.JSONField(
        default=list, blank=True, help_text="The rules it covers; none means every rule."
    )
    min_severity = models.CharField(
        max_length=10,
        choices=Severity.choices,
        default=Severity.LOW,
        help_text="Alerts below this severity are not sent here.",
    )
    recipients = models.TextField(
        blank=True, help_text="Email: the addresses, one a line or separated by commas."
    )
    url = models.CharField(
        "URL",
        max_length=500,
        blank=True,
        help_text="Webhook: an https:// address (http:// only to this machine).",
    )
    secret_encrypted = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def secret(self) -> str:
        """The webhook's shared secret, decrypted; never render or log this."""
        return decrypt_secrets(self.secret_encrypted).get("secret", "")

    @secret.setter
    def secret(self, value: str) -> None:
        self.secret_encrypted = encrypt_secrets({"secret": value}) if value else ""

    @property
    def recipient_list(self) -> list[str]:
        return [a.strip() for a in self.recipients.replace(",", "\n").splitlines() if a.strip()]

    def covers(self, alert: Alert) -> bool:
        """Whether an alert of this rule and severity is sent here."""
        return (not self.rules or alert.rule in self.rules) and SEVERITY_RANK.get(
            alert.severity, 0
        ) >= SEVERITY_RANK[self.min_severity]

    def clean(self) -> None:
        from activity.detections.notifications.destinations import destination_errors

        errors = destination_errors(self)
        if errors:
            raise ValidationError(errors)


class Delivery(models.Model):
    """One message to one destination, carrying the alerts raised together (a burst is one
    message). ``next_attempt_at`` is empty while the evaluation that raises them still runs;
    a failed attempt sets it later and later, until the last attempt marks it failed."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="deliveries"
    )
    alerts = models.ManyToManyField(Alert, related_name="deliveries")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="delivery_due"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} to {self.destination_id} ({self.state})"


class Baseline(models.Model):
    """A person's active hours over the ``days`` days before ``day`` (UTC): how many of those
    days they were active in each hour of the clock (``by_hour``, 24 counts), and active hours
    on weekends. Prepared once for the day by a background task (``baselines_prepare``), so
    that the day's first evaluation in each worker reads one row per person, not a month."""

    day = models.DateField()
    days = models.PositiveSmallIntegerField()
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+", db_index=False)
    by_hour = models.CharField(max_length=200)  # 24 counts of 16 bits, in hex (``hours_text``)
    weekend = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "days", "person"], name="baseline_day_person")
        ]

    def __str__(self) -> str:
        return f"{self.day} ({self.days} days) {self.person_id}"

    @staticmethod
    def hours_text(by_hour: tuple[int, ...]) -> str:
        return struct.pack(">24H", *by_hour).hex()

    @staticmethod
    def hours_of(text: str) -> tuple[int, ...]:
        return struct.unpack(">24H", bytes.fromhex(text))


class BaselineDay(models.Model):
    """A day whose baselines are prepared: a person without a ``Baseline`` row that day had
    no active hour in its window."""

    day = models.DateField()
    days = models.PositiveSmallIntegerField()
    prepared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "days"], name="baseline_day")]

    def __str__(self) -> str:
        return f"{self.day} ({self.days} days), prepared {self.prepared_at:%H:%M}"
