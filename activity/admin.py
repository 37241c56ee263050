"""Django admin for every model: sources with write-only secrets, read-only events."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.html import format_html_join

from activity.connectors import vendor_spec
from activity.models import ActivityEvent, Download, Source, SyncRun, UserActivitySnapshot
from activity.paginators import CappedCountPaginator
from activity.selectors import any_match, download_file_types
from activity.services.sources import SourceConfigError, validate_base_url, validate_keys
from activity.tasks import sync_enqueue


def parse_key_values(text: str) -> dict[str, str]:
    pairs = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValidationError("Write one KEY=VALUE per line.")
        pairs[key.strip()] = value.strip()
    return pairs


class SourceForm(forms.ModelForm):
    new_secrets = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text="One KEY=VALUE per line. Stored encrypted and never shown again; "
        "keys you leave out keep their stored value.",
        label="Set secrets",
    )

    class Meta:
        model = Source
        fields = [
            "vendor",
            "name",
            "base_url",
            "params",
            "new_secrets",
            "enabled",
            "sync_interval",
            "initial_lookback",
            "overlap",
            "sync_state",
        ]

    def clean(self):
        cleaned = super().clean()
        vendor = cleaned.get("vendor")
        if not vendor:
            return cleaned
        try:
            secrets = parse_key_values(cleaned.get("new_secrets", ""))
            params = cleaned.get("params") or {}
            if not isinstance(params, dict):
                raise SourceConfigError("params must be a JSON object")
            merged_secrets = {**self.instance.secrets, **secrets} if self.instance.pk else secrets
            validate_keys(vendor=vendor, params=params, secrets=merged_secrets)
            if cleaned.get("base_url"):
                cleaned["base_url"] = validate_base_url(cleaned["base_url"])
        except SourceConfigError as error:
            raise ValidationError(str(error)) from error
        cleaned["merged_secrets"] = merged_secrets
        return cleaned

    def save(self, commit=True):
        self.instance.secrets = self.cleaned_data["merged_secrets"]
        return super().save(commit)


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    form = SourceForm
    list_display = ["name", "vendor", "base_url", "enabled", "sync_interval", "lease_holder"]
    list_filter = ["vendor", "enabled"]
    search_fields = ["name", "base_url"]
    readonly_fields = ["stored_secrets", "lease_holder", "lease_acquired_at", "created_at"]
    actions = ["sync_now"]

    @admin.action(description="Sync now (queue a background sync)", permissions=["change"])
    def sync_now(self, request, queryset) -> None:
        queued = [s.name for s in queryset if sync_enqueue(source_id=s.pk, trigger="admin")]
        skipped = queryset.count() - len(queued)
        if queued:
            self.message_user(request, f"Queued a sync of {', '.join(queued)}.")
        if skipped:
            self.message_user(
                request, f"{skipped} source(s) already queued or running.", messages.WARNING
            )

    @admin.display(description="Stored secrets")
    def stored_secrets(self, source: Source) -> str:
        names = source.secret_names if source.pk else []
        if not names:
            return "none"
        spec = vendor_spec(source.vendor)
        rows = ((name, "" if name in spec.secrets else ", unused") for name in names)
        return format_html_join(", ", "{} (set{})", rows)


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = [
        "source",
        "status",
        "trigger",
        "started_at",
        "duration",
        "pages",
        "events_seen",
        "events_new",
        "events_changed",
        "records_skipped",
    ]
    list_filter = ["status", "source", "trigger"]
    date_hierarchy = "started_at"
    search_fields = ["source__name", "error"]
    list_select_related = ["source"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ingested data is evidence: visible to staff, never edited by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class VendorFilter(admin.SimpleListFilter):
    title = "vendor"
    parameter_name = "vendor"

    def lookups(self, request, model_admin):
        return Source._meta.get_field("vendor").choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(source__vendor=self.value())
        return queryset


@admin.register(ActivityEvent)
class ActivityEventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "source", "actor_name", "actor_email", "action", "object_name"]
    list_filter = [VendorFilter, "source"]
    search_fields = ["actor_email", "actor_id", "action"]
    search_help_text = "An exact email, vendor user id or action."
    list_select_related = ["source"]
    ordering = ["-occurred_at", "-id"]
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50

    def get_search_results(self, request, queryset, search_term):
        # Exact matches on indexed columns only (the admin's "=field" compares UPPER()s, which
        # no index serves), and only on the columns that hold the term at all.
        term = search_term.strip()
        if not term:
            return queryset, False
        match = any_match([Q(actor_email=term.lower()), Q(actor_id=term), Q(action=term)])
        return queryset.filter(match), False


class FileTypeFilter(admin.SimpleListFilter):
    """The admin's own filter would SELECT DISTINCT over every download on each page view."""

    title = "file type"
    parameter_name = "file_type"

    def lookups(self, request, model_admin):
        return [(value, value) for value in download_file_types()]

    def queryset(self, request, queryset):
        return queryset.filter(file_type=self.value()) if self.value() else queryset


@admin.register(Download)
class DownloadAdmin(ReadOnlyAdmin):
    list_display = ["downloaded_at", "source", "user_name", "file_type", "query_context"]
    list_filter = [FileTypeFilter, "source"]
    search_fields = ["=user_uuid", "=query_uuid", "=file_type", "=query_context"]
    list_select_related = ["source"]
    ordering = ["-downloaded_at", "-event_id"]
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50


@admin.register(UserActivitySnapshot)
class UserActivitySnapshotAdmin(ReadOnlyAdmin):
    list_display = ["taken_at", "source", "number_users", "weekly_querying_users_percent"]
    list_filter = ["source"]
    date_hierarchy = "taken_at"
