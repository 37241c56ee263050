"""Admin for detections: rules' switches and thresholds, alerts' triage, evidence read-only;
notification destinations (a webhook's secret write-only) and their deliveries, read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from activity.detections.base import settings_help
from activity.detections.models import (
    Alert,
    AlertEvidence,
    Delivery,
    Destination,
    Rule,
    RuleName,
)
from activity.detections.notifications.selectors import alert_deliveries
from activity.detections.notifications.tasks import delivery_enqueue
from activity.detections.registry import RULES
from activity.detections.services import alert_triage, triage_problem


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ["name", "enabled", "thresholds", "updated_at"]
    list_editable = ["enabled"]
    fields = ["name", "enabled", "thresholds", "defaults"]
    readonly_fields = ["name", "defaults"]

    def has_add_permission(self, request) -> bool:
        return False  # the rules are built in, one row each

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Thresholds and their defaults")
    def defaults(self, rule: Rule) -> str:
        rows = settings_help(RULES[rule.name].Settings)
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li><code>{}</code> = {}: {}</li>", ((n, d, h) for n, d, h in rows)
            ),
        )


class EvidenceInline(admin.TabularInline):
    model = AlertEvidence
    fields = ["occurred_at", "source", "external_id", "event_link"]
    readonly_fields = fields
    ordering = ["occurred_at", "id"]
    extra = 0
    max_num = 0
    can_delete = False

    @admin.display(description="Event")
    def event_link(self, item: AlertEvidence) -> str:
        url = reverse("admin:activity_activityevent_change", args=[item.event_id])
        return format_html('<a href="{}">event {}</a>', url, item.event_id)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source")

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class AlertForm(forms.ModelForm):
    """Triage input is refused here as on the alert page, with the same message."""

    def clean(self):
        data = super().clean()
        if {"state", "triage_note"} & set(self.changed_data):
            problem = triage_problem(state=data.get("state", ""), note=data.get("triage_note", ""))
            if problem:
                raise forms.ValidationError(problem)
        return data


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    form = AlertForm
    list_display = [
        "id",
        "rule",
        "severity",
        "state",
        "person",
        "subject",
        "first_event_at",
        "last_event_at",
        "events",
    ]
    list_filter = ["rule", "severity", "state"]
    list_select_related = ["person"]
    raw_id_fields = ["person"]
    fields = [
        "rule",
        "severity",
        "person",
        "subject",
        "first_event_at",
        "last_event_at",
        "events",
        "explanation",
        "state",
        "triage_note",
        "triaged_by",
        "triaged_at",
        "notifications",
    ]
    readonly_fields = [name for name in fields if name not in ("state", "triage_note")]
    inlines = [EvidenceInline]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # kept, whatever their state: triage closes them

    @admin.display(description="Notifications")
    def notifications(self, alert: Alert) -> str:
        """Each delivery carrying the alert, as the alert's page shows it (a read-only field,
        not an inline: no formset for triage to post)."""
        rows = [
            (
                reverse("admin:activity_delivery_change", args=[delivery.pk]),
                delivery.destination.name,
                delivery.get_state_display(),
                delivery.attempts,
                f", sent {delivery.sent_at:%Y-%m-%d %H:%M:%S} UTC" if delivery.sent_at else "",
                f": {delivery.last_error}" if delivery.last_error else "",
            )
            for delivery in alert_deliveries(alert)
        ]
        if not rows:
            return "none"
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", '<li><a href="{}">{}</a>: {}, {} attempt(s){}{}</li>', rows),
        )

    def save_model(self, request, obj: Alert, form, change) -> None:
        # Only the state and the note can change here: the triage service records them.
        if {"state", "triage_note"} & set(form.changed_data):
            alert_triage(
                alert_id=obj.pk,
                state=obj.state,
                note=obj.triage_note,
                by=request.user.get_username(),
            )


class DestinationForm(forms.ModelForm):
    rules = forms.MultipleChoiceField(
        choices=RuleName.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every rule.",
    )
    new_secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        label="Set the shared secret",
        help_text="Webhook: signs every request (HMAC-SHA256). Stored encrypted and never "
        "shown again; leave empty to keep the stored one.",
    )

    class Meta:
        model = Destination
        fields = ["name", "kind", "enabled", "rules", "min_severity", "recipients", "url"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_secret"):
            # Set before the model's own validation, which requires a webhook's secret.
            self.instance.secret = cleaned["new_secret"]
        return cleaned


@admin.register(Destination)
class DestinationAdmin(admin.ModelAdmin):
    form = DestinationForm
    list_display = ["name", "kind", "enabled", "min_severity", "rules_covered", "secret_state"]
    list_filter = ["kind", "enabled"]
    fields = [
        "name",
        "kind",
        "enabled",
        "rules",
        "min_severity",
        "recipients",
        "url",
        "secret_state",
        "new_secret",
    ]
    readonly_fields = ["secret_state"]

    @admin.display(description="Rules")
    def rules_covered(self, destination: Destination) -> str:
        return ", ".join(destination.rules) or "every rule"

    @admin.display(description="Shared secret")
    def secret_state(self, destination: Destination) -> str:
        return "set" if destination.secret_encrypted else "not set"


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "destination",
        "state",
        "attempts",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "last_error",
    ]
    list_filter = ["state", "destination"]
    list_select_related = ["destination"]
    fields = [
        "destination",
        "alert_links",
        "state",
        "attempts",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "last_error",
    ]
    readonly_fields = fields
    actions = ["send_again"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Alerts")
    def alert_links(self, delivery: Delivery) -> str:
        rows = (
            (reverse("admin:activity_alert_change", args=[alert.pk]), alert)
            for alert in delivery.alerts.order_by("pk")
        )
        return format_html_join(", ", '<a href="{}">{}</a>', rows)

    def has_send_again_permission(self, request) -> bool:
        return request.user.has_perm("activity.change_delivery")

    @admin.action(description="Send again now", permissions=["send_again"])
    def send_again(self, request, queryset) -> None:
        """A failed (or waiting) delivery gets a fresh set of attempts, starting now."""
        now = timezone.now()
        ids = list(queryset.exclude(state=Delivery.State.SENT).values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=ids).update(
            state=Delivery.State.PENDING, attempts=0, next_attempt_at=now
        )
        for delivery_id in ids:
            delivery_enqueue(delivery_id=delivery_id)
        self.message_user(request, f"Queued {len(ids)} delivery(ies) to be sent again.")
