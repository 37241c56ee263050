"""Admin for detections: rules' switches and thresholds, alerts' triage, evidence read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from activity.detections.base import settings_help
from activity.detections.models import Alert, AlertEvidence, Rule
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
    ]
    readonly_fields = [name for name in fields if name not in ("state", "triage_note")]
    inlines = [EvidenceInline]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # kept, whatever their state: triage closes them

    def save_model(self, request, obj: Alert, form, change) -> None:
        # Only the state and the note can change here: the triage service records them.
        if {"state", "triage_note"} & set(form.changed_data):
            alert_triage(
                alert_id=obj.pk,
                state=obj.state,
                note=obj.triage_note,
                by=request.user.get_username(),
            )
