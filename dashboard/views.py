"""Thin views: read the request, call selectors, render the page or its htmx fragment."""

from __future__ import annotations

import json
from datetime import UTC

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from activity.detections.models import Alert
from activity.detections.services import TriageRefused, alert_triage
from activity.exports import CONTENT_TYPES, FORMATS, export_lines
from activity.models import ActivityEvent, Person, Source
from activity.people.decisions import (
    DecisionError,
    decision_undo,
    identity_split,
    people_merge,
)
from activity.people.selectors import (
    current_person,
    people_rows,
    person_decisions,
    person_identities,
    persons_named,
    suggested_among,
    suggestion_evidence,
    suggestions_for,
)
from activity.rereads import RereadRefused, reread_enqueue
from activity.selectors import known_actions
from activity.tasks import sync_enqueue
from dashboard import charts, params, selectors
from dashboard.cursors import BadCursor, Cursor, counted_paginator, keyset_page
from dashboard.filters import ActivityFilter, AlertFilter, DownloadFilter, PeopleFilter
from dashboard.forms import MergeForm, RereadForm, SplitForm, TriageForm, UndoForm
from dashboard.permissions import (
    can_decide_people,
    can_manage_sources,
    can_triage_alerts,
    viewer_required,
)
from dashboard.rollup_scope import activity_scope, download_days
from dashboard.timezones import is_zone, remember_zone, viewer_timezone

DOWNLOAD_PAGES_LIMIT = 10_000
PERIODS = (7, 30, 90, 365)
PERSON_DAYS = 90  # the person page's chart of activity per day
PERSON_ALERTS = 5  # the person page lists their newest alerts, linking to the rest
# The activity filters that narrow the list beyond its dates.
FILTERS = ("vendor", "source", "person", "action", "object_type", "category", "outcome", "q")


def _render(request, template: str, context: dict, *, fragment: str = "results", status=200):
    name = f"{template}#{fragment}" if request.htmx and not request.htmx.boosted else template
    return render(request, name, context, status=status)


def _cursor(request) -> Cursor | None:
    value = request.GET.get(params.CURSOR)
    return Cursor.decode(value) if value else None


def _bad_request(request, template: str, context: dict, message: str):
    return _render(request, template, {**context, "error": message}, status=400)


def home(request):
    return redirect("activity")


@viewer_required
@vary_on_headers("HX-Request")
def activity(request):
    filterset = ActivityFilter(request.GET, queryset=selectors.event_list(), request=request)
    context = {"filter": filterset, "page": None}
    if params.EVENT in request.GET and not request.htmx:
        context.update(_panel(request))
    if not filterset.is_valid():
        return _bad_request(request, "dashboard/activity.html", context, "Check the filters.")
    try:
        cursor = _cursor(request)
    except BadCursor as error:
        return _bad_request(request, "dashboard/activity.html", context, str(error))
    data = filterset.form.cleaned_data
    events = filterset.qs
    scope = activity_scope(data, zone=viewer_timezone(request), now=timezone.now())
    page = selectors.event_page(
        events, cursor=cursor, filtered=any(data.get(name) for name in FILTERS), scope=scope
    )
    countable = not data.get("q") or selectors.search_is_countable(page)
    first_page = page if cursor is None else None
    context.update(
        page=page,
        histogram=_histogram(request, scope),
        count=selectors.event_count(events, first_page=first_page) if countable else None,
        facets=selectors.activity_facets(events, scope=scope, first_page=first_page)
        if countable
        else None,
        export_formats=FORMATS,
        known_actions=known_actions(),
    )
    return _render(request, "dashboard/activity.html", context)


def _histogram(request, scope) -> dict:
    if scope is None:  # free text or a person by name: the rollups cannot count it
        return {"unavailable": True}
    counts = selectors.event_days(scope, today=timezone.now().astimezone(UTC).date())
    return {"counts": counts, "chart": charts.histogram(counts.days, query=request.GET)}


@viewer_required
@vary_on_headers("HX-Request")
def activity_detail(request, pk: int):
    """The whole page, or with htmx the fragment the log shows in its side panel. The list's
    query string rides along, so "back to the log" keeps its filters."""
    event = get_object_or_404(selectors.event_list(), pk=pk)
    context = {
        "event": event,
        "raw": _pretty(event.raw),
        "revisions": _revisions(event),
        "in_panel": bool(request.htmx),
    }
    return _render(request, "dashboard/activity_detail.html", context, fragment="detail")


def _revisions(event: ActivityEvent) -> list[dict]:
    """The vendor's earlier versions of the event, newest first, as the page shows them."""
    return [
        {"replaced_at": revision.replaced_at, "raw": _pretty(revision.raw)}
        for revision in event.revisions.all()
    ]


def _pretty(raw: str) -> str:
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except ValueError:
        return raw


def _panel(request) -> dict:
    """The event open in the log's side panel (``?event=<id>``), as its detail fragment needs."""
    try:
        event = selectors.event_list().filter(pk=int(request.GET.get(params.EVENT, ""))).first()
    except ValueError:
        return {}
    return {"panel_event": event, "panel_raw": _pretty(event.raw)} if event else {}


@viewer_required
def activity_export(request, fmt: str):
    if fmt not in FORMATS:
        return HttpResponseBadRequest("Unknown export format.")
    filterset = ActivityFilter(request.GET, queryset=selectors.event_list(), request=request)
    if not filterset.is_valid():
        return HttpResponseBadRequest("Check the filters: " + filterset.form.errors.as_text())
    response = StreamingHttpResponse(
        export_lines(filterset.qs.order_by("occurred_at", "id"), fmt),
        content_type=CONTENT_TYPES[fmt],
    )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="activity-{stamp}.{fmt}"'
    return response


@viewer_required
@vary_on_headers("HX-Request")
def downloads(request):
    filterset = DownloadFilter(request.GET, queryset=selectors.download_list(), request=request)
    context = {"filter": filterset, "page": None, "numbered": None}
    if not filterset.is_valid():
        return _bad_request(request, "dashboard/downloads.html", context, "Check the filters.")
    rows = filterset.qs
    count = selectors.capped_count(rows, DOWNLOAD_PAGES_LIMIT)
    days = download_days(filterset.form.cleaned_data, zone=viewer_timezone(request))
    context.update(count=count, totals=selectors.download_totals(rows, days=days))
    if not count.capped:
        paginator = counted_paginator(
            rows.order_by("-downloaded_at", "-event_id"), params.PAGE_SIZE, count=count.value
        )
        try:
            context["numbered"] = paginator.page(request.GET.get(params.PAGE) or 1)
            context["rows"] = context["numbered"].object_list
        except (EmptyPage, PageNotAnInteger):
            return _bad_request(request, "dashboard/downloads.html", context, "No such page.")
    else:
        try:
            cursor = _cursor(request)
        except BadCursor as error:
            return _bad_request(request, "dashboard/downloads.html", context, str(error))
        context["page"] = keyset_page(
            rows,
            cursor=cursor,
            size=params.PAGE_SIZE,
            time_field="downloaded_at",
            id_field="event_id",
        )
        context["rows"] = context["page"].rows
    return _render(request, "dashboard/downloads.html", context)


@viewer_required
def users(request):
    try:
        period = int(request.GET.get(params.PERIOD) or 30)
        if period not in PERIODS:
            raise ValueError
    except ValueError:
        return HttpResponseBadRequest(f"period must be one of {', '.join(map(str, PERIODS))}")
    since = charts.period_start(period, timezone.now().date())
    latest = selectors.latest_snapshot()
    top = selectors.top_people(since=since)
    buckets = selectors.activity_buckets(since=since, days=period)
    figures = {
        "per_day": charts.events_per_day(buckets.by_vendor(), weekly=buckets.weekly),
        "per_category": charts.events_per_category(buckets.by_category(), weekly=buckets.weekly),
        "failed_signins": charts.failed_signins(buckets.failed_signins(), weekly=buckets.weekly),
        "weekly": charts.weekly_people(selectors.weekly_active_people(since=since)),
        "lightdash": charts.lightdash_history(selectors.lightdash_snapshots(since=since)),
    }
    document = latest.raw_record if latest else {}
    if latest:
        figures.update(
            weekly_views=charts.lightdash_weekly_views(document),
            charts_viewed=charts.lightdash_top_content(
                document, "chartViews", "Lightdash: most viewed charts"
            ),
            dashboards_viewed=charts.lightdash_top_content(
                document, "dashboardViews", "Lightdash: most viewed dashboards"
            ),
            roles=charts.lightdash_roles(latest),
        )
    no_queries = document.get("tableNoQueries") if isinstance(document, dict) else None
    context = {
        "period": period,
        "weekly": buckets.weekly,
        "periods": PERIODS,
        "figures": figures,
        "latest": latest,
        "no_queries": no_queries if isinstance(no_queries, list) else [],
        "top": top,
    }
    return render(request, "dashboard/users.html", context)


@viewer_required
@vary_on_headers("HX-Request")
def people(request):
    filterset = PeopleFilter(request.GET, queryset=Person.objects.none(), request=request)
    context = {"filter": filterset, "numbered": None, "rows": [], "suggested": set()}
    if not filterset.is_valid():
        return _bad_request(request, "dashboard/people.html", context, "Check the filters.")
    try:
        numbered = Paginator(filterset.qs, params.PAGE_SIZE).page(request.GET.get(params.PAGE) or 1)
    except (EmptyPage, PageNotAnInteger):
        return _bad_request(request, "dashboard/people.html", context, "No such page.")
    context.update(numbered=numbered, rows=people_rows(list(numbered.object_list)))
    if can_decide_people(request.user):
        context["suggested"] = suggested_among(list(numbered.object_list))
    return _render(request, "dashboard/people.html", context)


@viewer_required
@vary_on_headers("HX-Request")
def person(request, pk: int):
    found = get_object_or_404(Person, pk=pk)
    current = current_person(found)
    if current.pk != found.pk:
        return redirect("person", current.pk)
    try:
        cursor = _cursor(request)
    except BadCursor as error:
        return HttpResponseBadRequest(str(error))
    return _person_page(request, current, cursor=cursor)


def _person_page(request, person: Person, *, cursor=None, error: str = "", status: int = 200):
    since = charts.period_start(PERSON_DAYS, timezone.now().astimezone(UTC).date())
    can_decide = can_decide_people(request.user)
    others = suggestions_for(person.pk) if can_decide else []
    key = selectors.person_key(person)  # what the log and the alerts page find them by
    context = {
        "person": person,
        "identities": person_identities(person.pk),
        "page": keyset_page(
            selectors.person_events(person.pk),
            cursor=cursor,
            size=params.PAGE_SIZE,
            time_field="occurred_at",
            id_field="id",
        ),
        "downloads": list(selectors.person_downloads(person.pk).order_by("-downloaded_at")[:20]),
        "by_vendor": selectors.person_by_vendor(person.pk),
        "by_category": selectors.person_by_category(person.pk),
        "per_day": charts.person_per_day(
            selectors.person_by_day(person.pk, since=since), person=key
        ),
        "days": PERSON_DAYS,
        "alerts": list(selectors.person_alerts(person.pk)[: PERSON_ALERTS + 1]),
        "alerts_shown": PERSON_ALERTS,
        "person_key": key,
        "decisions": person_decisions(person.pk).select_related("person", "other"),
        "can_decide": can_decide,
        "evidence": suggestion_evidence([person.pk, *others]) if others else [],
        "error": error,
    }
    return _render(request, "dashboard/person.html", context, status=status)


def _decide(request, pk: int, form_class, decide):
    """A staff decision posted from a person page: refused, the page again with the reason
    (400, nothing changed); taken, back to the page with a note of what moved."""
    if not can_decide_people(request.user):
        raise PermissionDenied
    person = current_person(get_object_or_404(Person, pk=pk))
    form = form_class(request.POST)
    try:
        if not form.is_valid():
            raise DecisionError(
                " ".join(f"{name}: {' '.join(e)}" for name, e in form.errors.items())
            )
        note = decide(person, form.cleaned_data, request.user.get_username())
    except DecisionError as error:
        return _person_page(request, person, error=str(error), status=400)
    messages.success(request, note)
    return redirect("person", current_person(person).pk)


@viewer_required
@require_POST
def person_merge(request, pk: int) -> HttpResponse:
    def merge(person: Person, data: dict, by: str) -> str:
        decision = people_merge(
            keep_id=person.pk, merge_id=data["other"], reason=data["reason"], by=by
        )
        return (
            f"Merged {decision.other.label} (person {decision.other_id}) into this person: "
            f"{len(decision.identities)} identities, {decision.events_moved:,} events moved."
        )

    return _decide(request, pk, MergeForm, merge)


@viewer_required
@require_POST
def person_split(request, pk: int) -> HttpResponse:
    def split(person: Person, data: dict, by: str) -> str:
        if not person_identities(person.pk).filter(pk=data["identity"]).exists():
            raise DecisionError("That identity is not this person's (any more): look again.")
        decision = identity_split(identity_id=data["identity"], reason=data["reason"], by=by)
        return (
            f"Split an identity off into {decision.person.label} (person {decision.person_id}): "
            f"{decision.events_moved:,} events moved."
        )

    return _decide(request, pk, SplitForm, split)


@viewer_required
@require_POST
def person_undo(request, pk: int) -> HttpResponse:
    def undo(person: Person, data: dict, by: str) -> str:
        if not person_decisions(person.pk).filter(pk=data["decision"]).exists():
            raise DecisionError(f"No decision with id {data['decision']} about this person.")
        decision = decision_undo(decision_id=data["decision"], reason=data["reason"], by=by)
        return (
            f"Undid the {decision.get_action_display().lower()}: "
            f"{len(decision.identities)} identities moved back."
        )

    return _decide(request, pk, UndoForm, undo)


@viewer_required
def person_by_key(request, key: str):
    """Links made before persons existed name an email or ``id:<vendor user id>``."""
    persons = persons_named(key.removeprefix("id:")) if "\x00" not in key else []
    if len(persons) == 1:
        return redirect("person", persons[0])
    raise Http404("No single person answers to this link.")


@viewer_required
@vary_on_headers("HX-Request")
def alerts(request):
    filterset = AlertFilter(request.GET, queryset=selectors.alert_list(), request=request)
    context = {"filter": filterset, "page": None}
    if not filterset.is_valid():
        return _bad_request(request, "dashboard/alerts.html", context, "Check the filters.")
    try:
        cursor = _cursor(request)
    except BadCursor as error:
        return _bad_request(request, "dashboard/alerts.html", context, str(error))
    context.update(
        page=keyset_page(
            filterset.qs,
            cursor=cursor,
            size=params.PAGE_SIZE,
            time_field="last_event_at",
            id_field="id",
        ),
        count=selectors.capped_count(filterset.qs),
        rule_counts=selectors.alert_rule_counts(filterset.without("rule")),
    )
    return _render(request, "dashboard/alerts.html", context)


@viewer_required
@vary_on_headers("HX-Request")
def alert(request, pk: int):
    found = get_object_or_404(selectors.alert_list(), pk=pk)
    try:
        cursor = _cursor(request)
    except BadCursor as error:
        return HttpResponseBadRequest(str(error))
    return _alert_page(request, found, cursor=cursor)


def _alert_page(request, found: Alert, *, cursor=None, error: str = "", status: int = 200):
    page = keyset_page(
        selectors.alert_evidence(found.pk),
        cursor=cursor,
        size=params.PAGE_SIZE,
        time_field="occurred_at",
        id_field="id",
    )
    page.rows = selectors.evidence_rows(page.rows)
    context = {
        "alert": found,
        "page": page,
        "log_query": selectors.alert_log_query(found, zone=viewer_timezone(request)),
        "deliveries": list(selectors.alert_deliveries(found)),
        "can_triage": can_triage_alerts(request.user),
        "states": Alert.State.choices,
        "error": error,
    }
    return _render(request, "dashboard/alert.html", context, fragment="evidence", status=status)


@viewer_required
@require_POST
def alert_triage_post(request, pk: int) -> HttpResponse:
    """Triage from the alert page: refused, the page again with the reason (400, nothing
    changed); recorded, back to the page."""
    if not can_triage_alerts(request.user):
        raise PermissionDenied
    found = get_object_or_404(selectors.alert_list(), pk=pk)
    form = TriageForm(request.POST)
    try:
        if not form.is_valid():
            raise TriageRefused("Choose a state; a note is at most 2,000 characters.")
        triaged = alert_triage(
            alert_id=found.pk,
            state=form.cleaned_data["state"],
            note=form.cleaned_data["note"],
            by=request.user.get_username(),
        )
    except TriageRefused as error:
        return _alert_page(request, found, error=str(error), status=400)
    messages.success(request, f"Marked {triaged.get_state_display().lower()}.")
    return redirect("alert", found.pk)


@viewer_required
def sources(request):
    context = {"health": selectors.source_health(), "can_manage": can_manage_sources(request.user)}
    return render(request, "dashboard/sources.html", context)


@viewer_required
@require_POST
def source_sync(request, pk: int) -> HttpResponse:
    if not can_manage_sources(request.user):
        raise PermissionDenied
    source = get_object_or_404(Source, pk=pk)
    if sync_enqueue(source_id=source.pk, trigger="dashboard"):
        messages.success(request, f"Queued a sync of {source.name}.")
    else:
        messages.info(request, f"A sync of {source.name} is already queued or running.")
    return redirect("sources")


@viewer_required
def source_coverage(request, name: str):
    source = get_object_or_404(Source, name=name)
    context = {
        "calendar": selectors.coverage_calendar(source=source, now=timezone.now()),
        "rereads": selectors.recent_rereads(source),
        "can_manage": can_manage_sources(request.user),
    }
    return render(request, "dashboard/coverage.html", context)


@viewer_required
@require_POST
def source_reread(request, name: str) -> HttpResponse:
    """Queue a bounded backfill of one window (a gap on the coverage page)."""
    if not can_manage_sources(request.user):
        raise PermissionDenied
    source = get_object_or_404(Source, name=name)
    form = RereadForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Give the window's start and stop as ISO 8601 times.")
    start, stop = (form.cleaned_data[name].astimezone(UTC) for name in ("start", "stop"))
    try:
        reread_enqueue(source=source, start=start, stop=stop)
    except RereadRefused as error:
        return HttpResponseBadRequest(f"This window cannot be re-read: {error}.")
    messages.success(
        request,
        f"Queued a re-read of {source.name} from {start:%Y-%m-%d %H:%M} to "
        f"{stop:%Y-%m-%d %H:%M} UTC: the calendar fills in as it reads.",
    )
    return redirect("source_coverage", name=source.name)


@require_POST
def choose_timezone(request) -> HttpResponse:
    """The zone picked in the top bar (empty: the browser's), then back to the page."""
    name = request.POST.get(params.TIMEZONE, "")
    if name and not is_zone(name):
        return HttpResponseBadRequest("Unknown time zone.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = redirect(target)
    remember_zone(response, name)
    return response
