"""Plotly figures built from selector rows; the page's script draws them (no inline script).

Vendor text in labels is HTML-escaped: Plotly renders a subset of HTML in labels and hover
text, and decodes entities, so escaped text shows as typed and never as markup.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape
from urllib.parse import urlencode

from django.http import QueryDict
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from activity.models import UserActivitySnapshot, Vendor
from activity.vocabulary import Category, Outcome
from dashboard import params

LAYOUT = {
    "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
    "height": 320,
    "legend": {"orientation": "h", "y": -0.2},
    "paper_bgcolor": "#ffffff",
    "plot_bgcolor": "#ffffff",
}


def _figure(title: str, traces: list, **layout) -> str:
    # Plain JSON for plotly.js: building plotly.py Figure objects (validation, deep copies) took
    # longer than the rest of the page, database included.
    figure = {"data": traces, "layout": {**LAYOUT, "title": {"text": title}, **layout}}
    return json.dumps(figure, default=str)


def _trace(kind: str, **attributes) -> dict:
    return {"type": kind, **attributes}


def events_per_day(rows: list[tuple[date, str, int]], *, weekly: bool = False) -> str:
    return daily_bars(
        rows,
        series=params.VENDOR,
        label=lambda vendor: Vendor(vendor).label,
        title="Events per {unit}, by vendor",
        weekly=weekly,
    )


def events_per_category(rows: list[tuple[date, str, int]], *, weekly: bool = False) -> str:
    return daily_bars(
        rows,
        series=params.CATEGORY,
        label=lambda category: Category(category).label,
        title="Events per {unit}, by category",
        weekly=weekly,
    )


def failed_signins(rows: list[tuple[date, str, int]], *, weekly: bool = False) -> str:
    return daily_bars(
        rows,
        series=params.VENDOR,
        label=lambda vendor: Vendor(vendor).label,
        title="Failed sign-ins per {unit}",
        query={params.CATEGORY: Category.AUTHENTICATION, params.OUTCOME: Outcome.FAILURE},
        weekly=weekly,
    )


def person_per_day(rows: list[tuple[date, str, int]], *, person: str) -> str:
    """A person's events per day by vendor; each bar opens the log of that person (``person``,
    the log's person filter). One day of activity is a number, not a chart of one bar."""
    days = {day for day, _, _ in rows}
    if len(days) == 1:
        day = days.pop()
        so_far = " so far" if day == datetime.now(UTC).date() else ""
        return _figure(
            "Events per day (UTC), by vendor",
            [
                _trace(
                    "indicator",
                    mode="number",
                    value=sum(events for _, _, events in rows),
                    title={"text": f"Events on {day:%Y-%m-%d}{so_far}", "font": {"size": 13}},
                )
            ],
        )
    return (
        events_per_day(rows)
        if not person
        else daily_bars(
            rows,
            series=params.VENDOR,
            label=lambda vendor: Vendor(vendor).label,
            title="Events per {unit}, by vendor",
            query={params.PERSON: person},
        )
    )


def daily_bars(
    rows: list[tuple[date, str, int]],
    *,
    series: str,
    label: Callable[[str], str],
    title: str,
    query: dict[str, str] | None = None,
    weekly: bool = False,
) -> str:
    """Bars per day (or per week from Monday) stacked by ``series`` (a filter of the activity
    log). Each trace carries the log's URL of a bar, ``{x}`` standing for its first day and
    ``{end}`` for its last (the bar's ``customdata``): one link per trace keeps a year's chart
    small. The day or week under way is veiled: not over, its shorter bar is not a drop."""
    title = title.format(unit="week (UTC, from Monday)" if weekly else "day (UTC)")
    if not rows:
        return _empty(title)
    span = timedelta(days=7 if weekly else 1)
    by_series: dict[str, dict[date, int]] = defaultdict(dict)
    for day, value, events in rows:
        by_series[value][day] = events
    log = reverse("activity")
    today = datetime.now(UTC).date()
    current = _monday(today) if weekly else today
    traces = []
    for value in sorted(by_series):
        days = sorted(by_series[value])
        link = urlencode({**(query or {}), series: value, params.TIMEZONE: "UTC"})
        trace = _trace(
            "bar",
            name=label(value),
            x=[day.isoformat() for day in days],
            y=[by_series[value][day] for day in days],
            meta=f"{log}?{link}&{params.DATE_FROM}={{x}}&{params.DATE_TO}={{end}}",
            hovertemplate="%{x}<br>%{y} events<extra>" + escape(label(value)) + "</extra>",
        )
        trace["customdata"] = [(day + span - timedelta(days=1)).isoformat() for day in days]
        traces.append(trace)
    half = span / 2
    veil = {
        "type": "rect",
        "xref": "x",
        "yref": "paper",
        "x0": (datetime.combine(current, datetime.min.time()) - half).isoformat(),
        "x1": (datetime.combine(current, datetime.min.time()) + half).isoformat(),
        "y0": 0,
        "y1": 1,
        "fillcolor": "#ffffff",
        "opacity": 0.6,
        "line": {"width": 0},
    }
    return _figure(title, traces, barmode="stack", shapes=[veil])


def weekly_people(rows: list[tuple[date, int]]) -> str:
    """Whole weeks as a line; the week still under way as its own hollow point, so a week
    not over does not read as a drop."""
    title = "Weekly active people, all vendors"
    if not rows:
        return _empty(title)
    this_week = _monday(datetime.now(UTC).date())
    whole = [(week, people) for week, people in rows if week < this_week]
    current = [(week, people) for week, people in rows if week >= this_week]
    traces = [
        _trace(
            "scatter",
            x=[week.isoformat() for week, _ in whole],
            y=[people for _, people in whole],
            mode="lines+markers",
            name="people (weeks from Monday)",
        )
    ]
    if current:
        traces.append(
            _trace(
                "scatter",
                x=[week.isoformat() for week, _ in current],
                y=[people for _, people in current],
                mode="markers",
                marker={"symbol": "circle-open", "size": 10},
                name="this week so far",
            )
        )
    return _figure(title, traces)


def lightdash_history(snapshots: list[tuple[str, datetime, float | None]]) -> str:
    title = "Lightdash: weekly querying users, % (snapshots)"
    points = [(name, at, percent) for name, at, percent in snapshots if percent is not None]
    if not points:
        return _empty(title)
    if len(points) == 1:  # one snapshot is a number, not a line
        name, taken_at, percent = points[0]
        return _figure(
            "Lightdash: weekly querying users",
            [
                _trace(
                    "indicator",
                    mode="number",
                    value=percent,
                    number={"suffix": "%"},
                    title={"text": f"{escape(name)}, {taken_at:%Y-%m-%d}", "font": {"size": 13}},
                )
            ],
        )
    traces = []
    by_source: dict[str, list[tuple[datetime, float | None]]] = defaultdict(list)
    for name, taken_at, percent in snapshots:
        by_source[name].append((taken_at, percent))
    for name, rows in sorted(by_source.items()):
        traces.append(
            _trace(
                "scatter",
                x=[taken_at.isoformat() for taken_at, _ in rows],
                y=[percent for _, percent in rows],
                mode="lines+markers",
                name=name,
            )
        )
    return _figure(
        "Lightdash: weekly querying users, % (snapshots)",
        traces,
        yaxis={"rangemode": "tozero", "ticksuffix": "%"},
    )


def lightdash_weekly_views(document: dict) -> str:
    rows = _rows(document, "chartWeeklyAverageQueries")
    trace = _trace(
        "scatter",
        x=[str(row.get("date", ""))[:10] for row in rows],
        y=[_number(row.get("average_number_of_weekly_queries_per_user")) for row in rows],
        mode="lines",
        name="average weekly chart views per user",
    )
    return _figure("Lightdash: average weekly chart views per user", [trace])


def lightdash_top_content(document: dict, key: str, title: str) -> str:
    rows = sorted(_rows(document, key), key=lambda row: _number(row.get("count")) or 0)[-10:]
    trace = _trace(
        "bar",
        x=[_number(row.get("count")) or 0 for row in rows],
        y=[escape(str(row.get("name", ""))) for row in rows],
        orientation="h",
        name="views",
    )
    return _figure(title, [trace], margin={"l": 200, "r": 20, "t": 40, "b": 40})


def lightdash_roles(snapshot: UserActivitySnapshot) -> str:
    labels = ["Viewers", "Interactive viewers", "Editors", "Admins"]
    values = [
        snapshot.number_viewers,
        snapshot.number_interactive_viewers,
        snapshot.number_editors,
        snapshot.number_admins,
    ]
    trace = _trace("bar", x=labels, y=[value or 0 for value in values], name="users")
    return _figure("Lightdash: users by role", [trace])


def _empty(title: str) -> str:
    """A card that says so instead of drawing empty axes."""
    return _figure(
        title,
        [],
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[
            {"text": "No activity in this period", "showarrow": False, "font": {"size": 16}}
        ],
    )


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _rows(document: dict, key: str) -> list[dict]:
    rows = document.get(key) if isinstance(document, dict) else None
    return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# Up to this many days the log's histogram has a bar per day, beyond it a bar per week.
HISTOGRAM_DAILY_BARS = 92


@dataclass(frozen=True)
class Histogram:
    """The log's events over time as an inline SVG of links (no script), each bar the same
    filter narrowed to its day or week."""

    svg: str
    first: date
    last: date
    per: str  # "day" or "week"


def histogram(days: list[tuple[date, int]], *, query: QueryDict) -> Histogram | None:
    """From ``(day, events)`` oldest first, every day included; None when none holds one."""
    if not any(events for _, events in days):
        return None
    size = 1 if len(days) <= HISTOGRAM_DAILY_BARS else 7
    # Weeks end on the last day, so the newest bar is never a partial one.
    offset = len(days) % size
    buckets = ([days[:offset]] if offset else []) + [
        days[i : i + size] for i in range(offset, len(days), size)
    ]
    query = query.copy()
    for name in (params.RANGE, params.CURSOR, params.EVENT, params.DATE_FROM, params.DATE_TO):
        query.pop(name, None)
    base = query.urlencode()
    base = f"?{base}&" if base else "?"  # escaped with each bar's link below
    totals = [sum(events for _, events in bucket) for bucket in buckets]
    tallest = max(totals)
    bars = []
    for x, (bucket, events) in enumerate(zip(buckets, totals, strict=True)):
        start, end = bucket[0][0], bucket[-1][0]
        # A bar of a few events stays visible next to a busy one.
        height = max(100 * events / tallest, 1.5) if events else 0
        when = f"{start:%a %Y-%m-%d}" if start == end else f"{start:%Y-%m-%d} to {end:%Y-%m-%d}"
        # Only the query can hold the viewer's text: the rest is dates and numbers.
        href = escape(f"{base}{params.DATE_FROM}={start}&{params.DATE_TO}={end}")
        bars.append(
            f'<a href="{href}" tabindex="-1"><rect class="hit" x="{x}" y="0" width="1" '
            f'height="100"/><rect class="bar" x="{x}.1" y="{100 - height:.2f}" width=".8" '
            f'height="{height:.2f}"/><title>{when}: {events:,} event{"" if events == 1 else "s"}'
            "</title></a>"
        )
    svg = format_html(
        '<svg viewBox="0 0 {} 100" preserveAspectRatio="none" role="img" aria-label="{}">{}</svg>',
        len(bars),
        f"Events per {'day' if size == 1 else 'week'} from {days[0][0]} to {days[-1][0]}",
        mark_safe("".join(bars)),  # noqa: S308  (each bar built from escaped parts)
    )
    return Histogram(svg, days[0][0], days[-1][0], "day" if size == 1 else "week")


def period_start(days: int, today: date) -> date:
    return today - timedelta(days=days - 1)
