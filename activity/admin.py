"""Django admin for every model: sources with write-only secrets, read-only events."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.html import format_html_join

from activity.connectors import vendor_spec
from activity.models import (
    ActivityEvent,
    Download,
    Identity,
    Person,
    PersonDecision,
    Source,
    SyncRun,
    UserActivitySnapshot,
)
from activity.paginators import CappedCountPaginator
from activity.people.decisions import DecisionError, decision_undo, identity_split, people_merge
from activity.selectors import (
    any_of,
    download_file_types,
    existing_matches,
    recent_matches_start,
)
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

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        # A source's sync runs are its history and go with it (the database cascades); on
        # their own they are read-only, which must not forbid deleting the source.
        perms_needed.discard(SyncRun._meta.verbose_name)
        return deleted, model_count, perms_needed, protected

    @admin.display(description="Stored secrets")
    def stored_secrets(self, source: Source) -> str:
        names = source.secret_names if source.pk else []
        if not names:
            return "none"
        spec = vendor_spec(source.vendor)
        rows = ((name, "" if name in spec.secrets else ", unused") for name in names)
        return format_html_join(", ", "{} (set{})", rows)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ingested data and sync history are records: visible to staff, never added, edited or
    deleted by hand (``purge_activity`` applies retention; a source takes its runs with it)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class SearchAdmin(ReadOnlyAdmin):
    """Search over a big table: a whole value of an indexed column finds every match; part of
    a value finds the newest matches, as far back as the time budget reaches (no index serves
    a part of a value), and a message says from when."""

    exact_search: tuple[str, ...] = ()  # columns with a (column, time) index
    partial_search: tuple[str, ...] = ()
    search_time_field = ""
    search_pages = 10  # the newest matches a partial search aims for, in pages
    # A partial search reads rows one by one: this long at most, then its page and its count
    # read that span again (each under its own budget). The admin is a back office: it can
    # afford more than the dashboard's pages.
    search_budget_ms = 100

    def exact_conditions(self, term: str) -> list[Q]:
        return [Q(**{field: term}) for field in self.exact_search]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        exact = existing_matches(queryset, self.exact_conditions(term))
        if exact:
            return queryset.filter(any_of(exact)), False
        partial = [Q(**{f"{field}__icontains": term}) for field in self.partial_search]
        return self._recent(request, queryset.filter(any_of(partial))), False

    def _recent(self, request, matches: QuerySet) -> QuerySet:
        want = self.list_per_page * self.search_pages
        since = recent_matches_start(
            matches, time_field=self.search_time_field, want=want, ms=self.search_budget_ms
        )
        if since is None:
            return matches
        self.message_user(
            request,
            f"Partial matches since {timezone.localtime(since):%Y-%m-%d %H:%M %Z}, newest first: "
            "older ones are not searched (a whole value, or a narrower filter, finds them).",
            messages.INFO,
        )
        return matches.filter(**{f"{self.search_time_field}__gte": since})


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
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
class ActivityEventAdmin(SearchAdmin):
    list_display = [
        "occurred_at",
        "source",
        "actor_name",
        "actor_email",
        "action",
        "category",
        "outcome",
        "object_name",
    ]
    list_filter = [VendorFilter, "source", "category", "outcome"]
    # Shows the search box; get_search_results decides how each field is matched.
    search_fields = ["actor_email", "actor_id", "actor_name", "action", "object_name"]
    search_help_text = (
        "A whole email, vendor user id, name or action finds every event; part of one, or of "
        "an object name, finds the newest matches."
    )
    exact_search = ("actor_email", "actor_id", "actor_name", "action")
    partial_search = ("actor_email", "actor_name", "actor_id", "action", "object_name")
    search_time_field = "occurred_at"
    list_select_related = ["source"]
    ordering = ["-occurred_at", "-id"]
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50

    def exact_conditions(self, term: str) -> list[Q]:
        # Emails are stored lower-cased. The admin's own "=field" compares UPPER()s, which no
        # index serves.
        return [Q(actor_email=term.lower()), Q(actor_id=term), Q(actor_name=term), Q(action=term)]


class FileTypeFilter(admin.SimpleListFilter):
    """The admin's own filter would SELECT DISTINCT over every download on each page view."""

    title = "file type"
    parameter_name = "file_type"

    def lookups(self, request, model_admin):
        return [(value, value) for value in download_file_types()]

    def queryset(self, request, queryset):
        return queryset.filter(file_type=self.value()) if self.value() else queryset


@admin.register(Download)
class DownloadAdmin(SearchAdmin):
    list_display = ["downloaded_at", "source", "user_name", "file_type", "query_context"]
    list_filter = [FileTypeFilter, "source"]
    search_fields = ["user_uuid", "user_name", "query_uuid", "query_context"]
    search_help_text = (
        "A whole user UUID, file type or query context finds every download; part of a user "
        "name, query UUID or context finds the newest matches."
    )
    exact_search = ("user_uuid", "file_type", "query_context")
    partial_search = ("user_name", "query_uuid", "query_context")
    search_time_field = "downloaded_at"
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


class ReasonForm(ActionForm):
    """The people actions' reason, asked next to the action: every decision keeps one."""

    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": "Reason (kept with the decision)"}),
    )


class DecisionAdmin(ReadOnlyAdmin):
    """Persons, identities and decisions change only through staff decisions (merge, split,
    undo: ``activity.people.decisions``), each with a reason, recorded and undoable."""

    action_form = ReasonForm

    def has_decide_permission(self, request) -> bool:
        return request.user.is_staff and request.user.has_perm("activity.change_person")

    def decide(self, request, decision, **arguments) -> PersonDecision | None:
        """Take one decision with the reason from the action form; a refusal is a message."""
        try:
            return decision(
                reason=request.POST.get("reason", ""), by=request.user.get_username(), **arguments
            )
        except DecisionError as error:
            self.message_user(request, str(error), messages.ERROR)
            return None


class IdentityInline(admin.TabularInline):
    model = Identity
    fields = [
        "source",
        "vendor_user_id",
        "email",
        "name",
        "status",
        "kind",
        "rule",
        "pinned",
        "first_seen_at",
        "last_seen_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Person)
class PersonAdmin(DecisionAdmin):
    list_display = ["__str__", "primary_email", "kind", "status", "merged_into", "created_at"]
    list_filter = ["kind", "status", "peer_group"]
    search_fields = [
        "display_name",
        "primary_email",
        "identities__email",
        "identities__vendor_user_id",
    ]
    search_help_text = "A name or email (part of one), an identity's email or vendor id."
    inlines = [IdentityInline]
    actions = ["merge_selected"]
    ordering = ["display_name", "id"]

    @admin.action(
        description="Merge selected persons (two; the older is kept)", permissions=["decide"]
    )
    def merge_selected(self, request, queryset) -> None:
        persons = list(queryset.order_by("created_at", "id"))
        if len(persons) != 2:
            self.message_user(request, "Select exactly two persons to merge.", messages.ERROR)
            return
        keep, gone = persons
        decision = self.decide(request, people_merge, keep_id=keep.pk, merge_id=gone.pk)
        if decision:
            self.message_user(
                request,
                f"Merged {gone} (person {gone.pk}) into {keep} (person {keep.pk}): "
                f"{len(decision.identities)} identities, {decision.events_moved:,} events moved.",
            )


@admin.register(Identity)
class IdentityAdmin(DecisionAdmin):
    list_display = ["__str__", "source", "vendor_user_id", "email", "name", "person", "rule"]
    list_filter = ["source", "rule", "status", "kind"]
    search_fields = ["email", "vendor_user_id", "name"]
    list_select_related = ["source", "person"]
    actions = ["split_selected"]
    ordering = ["source", "key"]

    @admin.action(description="Split off into a person of its own", permissions=["decide"])
    def split_selected(self, request, queryset) -> None:
        for identity in queryset.order_by("id"):
            decision = self.decide(request, identity_split, identity_id=identity.pk)
            if decision:
                self.message_user(
                    request,
                    f"Split identity {identity.pk} off into person {decision.person_id}: "
                    f"{decision.events_moved:,} events moved.",
                )


@admin.register(PersonDecision)
class PersonDecisionAdmin(DecisionAdmin):
    list_display = [
        "decided_at",
        "action",
        "person",
        "other",
        "events_moved",
        "decided_by",
        "reason",
        "undone_at",
    ]
    list_filter = ["action", "decided_by"]
    search_fields = ["reason", "decided_by", "undone_by"]
    list_select_related = ["person", "other"]
    actions = ["undo_selected"]

    @admin.action(description="Undo the selected decisions", permissions=["decide"])
    def undo_selected(self, request, queryset) -> None:
        # Newest first: a later decision may have moved what an earlier one did.
        for decision in queryset.order_by("-decided_at", "-id"):
            undone = self.decide(request, decision_undo, decision_id=decision.pk)
            if undone:
                self.message_user(request, f"Undid decision {decision.pk} ({decision}).")


from activity.detections import admin as detections_admin  # noqa: E402, F401  (registers)
