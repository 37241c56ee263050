"""Reads for the download audit: its rows and totals."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet, Sum

from activity.models import (
    DailyDownload,
    DailyDownloader,
    Download,
    DownloaderTotal,
    WeeklyDownloader,
)
from activity.rollups import week_of
from activity.selectors import estimated_rows, within_budget
from dashboard.selectors.common import first_monday
from dashboard.top import threshold_top

# Download totals group by text columns, a third as fast.
DOWNLOAD_TOTALS_MAX_ROWS = 60_000
DOWNLOAD_TOTALS_BUDGET_MS = 30


def download_list() -> QuerySet[Download]:
    return Download.objects.select_related("event", "source")


def download_totals(
    queryset: QuerySet[Download], *, days: tuple[date | None, date | None] | None
) -> dict[str, list[tuple[str, int]]] | None:
    """Totals by file type and person: from the rollups for a filter of whole UTC ``days``
    (see ``rollup_scope.download_days``), otherwise counted under the time budget."""
    if days is not None:
        return download_totals_from_rollups(since=days[0], until=days[1])
    if (estimated_rows(queryset) or 0) > DOWNLOAD_TOTALS_MAX_ROWS:
        return None

    def totals():
        base = queryset.order_by()
        # count(*), not of a column: the file-type index holds the user name too, so a file
        # type's totals read the index alone.
        return {
            "file_type": list(base.values_list("file_type").annotate(n=Count("*")).order_by("-n")),
            "person": list(
                base.values_list("user_name").annotate(n=Count("*")).order_by("-n")[:10]
            ),
        }

    return within_budget(totals, ms=DOWNLOAD_TOTALS_BUDGET_MS)


def download_totals_from_rollups(
    *, since: date | None, until: date | None
) -> dict[str, list[tuple[str, int]]]:
    """The same totals from the rollups, for a filter of whole UTC days only: file types from
    the daily rollup, people from whole weeks plus the days at either edge."""
    types = DailyDownload.objects.all()
    if since:
        types = types.filter(day__gte=since)
    if until:
        types = types.filter(day__lte=until)
    by_type = (
        types.values_list("file_type").annotate(n=Sum("downloads")).order_by("-n", "file_type")
    )
    totals = DownloaderTotal.objects.order_by("-downloads", "user_name")
    people = threshold_top(
        totals.values_list("user_name", "downloads"),
        lambda names: _period_downloads(since=since, until=until, names=names),
    )
    return {"file_type": list(by_type), "person": people}


def _period_downloads(
    *, since: date | None, until: date | None, names: list[str] | None
) -> Counter[str]:
    """Downloads per user name between two UTC days: whole weeks from the weekly rollup, the
    days at either edge from the daily one."""
    first_week = first_monday(since) if since else None
    end_week = week_of(until + timedelta(days=1)) if until else None  # weeks wholly before it
    weekly = WeeklyDownloader.objects.all()
    edges = Q(pk__in=[])
    if first_week:
        weekly = weekly.filter(week__gte=first_week)
        edges |= Q(day__gte=since, day__lt=first_week)
    if end_week:
        weekly = weekly.filter(week__lt=end_week)
        edges |= Q(day__gte=max(end_week, first_week or end_week), day__lte=until)
    if first_week and end_week and end_week <= first_week:  # within one week: days only
        weekly, edges = weekly.none(), Q(day__gte=since, day__lte=until)
    daily = DailyDownloader.objects.filter(edges)
    if names is not None:
        weekly, daily = weekly.filter(user_name__in=names), daily.filter(user_name__in=names)
    people: Counter[str] = Counter()
    for rows in (weekly, daily):
        for name, n in rows.values_list("user_name").annotate(n=Sum("downloads")).order_by():
            people[name] += n
    return people
