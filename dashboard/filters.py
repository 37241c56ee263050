"""One FilterSet per list. Dates are entered in the viewer's time zone and compared in UTC."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from activity.detections.models import Alert, RuleName, Severity
from activity.models import ActivityEvent, Download, Person, Source, Vendor
from activity.people.selectors import people_list
from activity.selectors import action_variants, any_match, person_match
from activity.vocabulary import Category, Outcome
from dashboard import params, selectors
from dashboard.permissions import can_decide_people
from dashboard.timezones import viewer_timezone

RANGE_CHOICES = [(key, f"Last {key}") for key in params.RANGES]


class WindowForm(forms.Form):
    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data


class TimeWindowFilterSet(django_filters.FilterSet):
    """The date range shared by every list: a preset, or a custom from/to (whole days)."""

    time_field = "occurred_at"

    range = django_filters.ChoiceFilter(
        field_name=params.RANGE,
        choices=RANGE_CHOICES,
        method="filter_range",
        label="Date range",
        empty_label="Any time",
    )
    date_from = django_filters.DateFilter(
        field_name=params.DATE_FROM,
        method="filter_from",
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = django_filters.DateFilter(
        field_name=params.DATE_TO,
        method="filter_to",
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    @property
    def active_count(self) -> int:
        """How many filters have a value (the folded form's "Filters (3)")."""
        return sum(1 for name in self.filters if self.data.get(name))

    def _start_of(self, day) -> datetime:
        zone = viewer_timezone(self.request) if self.request else timezone.get_current_timezone()
        return datetime.combine(day, time.min, tzinfo=zone)

    def filter_range(self, queryset, name, value):
        return queryset.filter(
            **{f"{self.time_field}__gte": timezone.now() - timedelta(days=params.RANGES[value])}
        )

    def filter_from(self, queryset, name, value):
        return queryset.filter(**{f"{self.time_field}__gte": self._start_of(value)})

    def filter_to(self, queryset, name, value):
        return queryset.filter(
            **{f"{self.time_field}__lt": self._start_of(value + timedelta(days=1))}
        )


class ActivityFilter(TimeWindowFilterSet):
    vendor = django_filters.ChoiceFilter(
        field_name="source__vendor",
        choices=Vendor.choices,
        label="Vendor",
        empty_label="All vendors",
    )
    source = django_filters.ModelChoiceFilter(
        queryset=Source.objects.all(), to_field_name="name", empty_label="All sources"
    )
    person = django_filters.CharFilter(method="filter_person", label="Person (email, name or id)")
    action = django_filters.CharFilter(
        method="filter_action",
        label="Action",
        widget=forms.TextInput(attrs={"list": "known-actions", "autocomplete": "off"}),
    )
    object_type = django_filters.CharFilter(field_name="object_type", label="Object type")
    category = django_filters.MultipleChoiceFilter(
        field_name="category",
        choices=Category.choices,
        distinct=False,  # a column of the event itself: no join, no duplicates to remove
        label="Category",
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    outcome = django_filters.MultipleChoiceFilter(
        field_name="outcome",
        choices=Outcome.choices,
        distinct=False,
        label="Outcome",
        widget=forms.SelectMultiple(attrs={"size": 3}),
    )
    q = django_filters.CharFilter(method="filter_text", label="Text")

    class Meta:
        model = ActivityEvent
        fields = []
        form = WindowForm

    def filter_person(self, queryset, name, value):
        return queryset.filter(person_match(value))

    def filter_action(self, queryset, name, value):
        return queryset.filter(action__in=action_variants(value)) if value.strip() else queryset

    def filter_text(self, queryset, name, value):
        return queryset.filter(selectors.text_match(value)) if value.strip() else queryset


class DownloadFilter(TimeWindowFilterSet):
    time_field = "downloaded_at"

    person = django_filters.CharFilter(method="filter_person", label="Person (name or id)")
    file_type = django_filters.CharFilter(field_name="file_type", label="File type")
    context = django_filters.CharFilter(field_name="query_context", label="Query context")

    class Meta:
        model = Download
        fields = []
        form = WindowForm

    def filter_person(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(any_match([Q(user_uuid=value), Q(user_name=value)], Download))


# The list opens on the alerts that still need someone: open or acknowledged.
NEEDS_ATTENTION = [Alert.State.OPEN, Alert.State.ACKNOWLEDGED]
ANY_STATE = "any"
ALERT_STATE_CHOICES = [*Alert.State.choices, (ANY_STATE, "Any state")]


class AlertFilter(TimeWindowFilterSet):
    """The alerts list. The date range keeps the alerts whose events reach into it."""

    time_field = "last_event_at"

    rule = django_filters.ChoiceFilter(choices=RuleName.choices, empty_label="All rules")
    severity = django_filters.ChoiceFilter(choices=Severity.choices, empty_label="Any severity")
    state = django_filters.ChoiceFilter(
        choices=ALERT_STATE_CHOICES,
        method="filter_state",
        empty_label="Open or acknowledged",
        label="State",
    )
    person = django_filters.CharFilter(
        method="filter_person", label="Person (email, name or id) or IP"
    )

    class Meta:
        model = Alert
        fields = []
        form = WindowForm

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._subjects: dict[str, Q] = {}

    def filter_queryset(self, queryset):
        return self._filtered(queryset, self.form.cleaned_data)

    def without(self, name: str) -> QuerySet:
        """The alerts these filters keep, leaving out filter ``name`` (the counts per rule)."""
        return self._filtered(self.queryset, {**self.form.cleaned_data, name: None})

    def _filtered(self, queryset, data: dict) -> QuerySet:
        if not data.get("state"):
            queryset = queryset.filter(state__in=NEEDS_ATTENTION)
        for name, value in data.items():
            queryset = self.filters[name].filter(queryset, value)
        return queryset

    def filter_state(self, queryset, name, value):
        return queryset if value == ANY_STATE else queryset.filter(state=value)

    def filter_person(self, queryset, name, value):
        if not value.strip():
            return queryset
        # Resolved once for the list and again for its counts per rule: keep the answer.
        if value not in self._subjects:
            self._subjects[value] = selectors.alert_subject_match(value)
        return queryset.filter(self._subjects[value])

    def filter_to(self, queryset, name, value):
        return queryset.filter(first_event_at__lt=self._start_of(value + timedelta(days=1)))


class PeopleFilter(django_filters.FilterSet):
    """The people list: one selector (``people_list``) answers the whole form; "suggested
    merges" is for staff only (the suggestions are evidence for them to weigh)."""

    q = django_filters.CharFilter(label="Name, email or vendor id")
    kind = django_filters.ChoiceFilter(
        choices=Person.Kind.choices, label="Kind", empty_label="Any kind"
    )
    status = django_filters.ChoiceFilter(
        choices=Person.Status.choices, label="Status", empty_label="Any status"
    )
    suggested = django_filters.BooleanFilter(
        label="With a suggested merge", widget=forms.CheckboxInput
    )

    class Meta:
        model = Person
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not (self.request and can_decide_people(self.request.user)):
            del self.filters["suggested"]

    @property
    def active_count(self) -> int:
        return sum(1 for name in self.filters if self.data.get(name))

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        return people_list(
            search=data.get("q") or "",
            kind=data.get("kind") or "",
            status=data.get("status") or "",
            suggested=bool(data.get("suggested")),
        )
