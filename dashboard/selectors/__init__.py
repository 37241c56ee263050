"""Reads for the pages, one module per page; views and filters take them from here.

Each returns rows or a queryset, so views stay thin. What more than one page reads lives in
``common``."""

from activity.detections.notifications.selectors import alert_deliveries
from dashboard.selectors.activity import (
    DayCounts,
    activity_facets,
    event_count,
    event_days,
    event_list,
    event_page,
    facet_counts,
    newest_event_time,
    search_is_countable,
    text_match,
)
from dashboard.selectors.alerts import (
    EvidenceRow,
    RuleCount,
    alert_evidence,
    alert_list,
    alert_log_query,
    alert_rule_counts,
    alert_subject_match,
    evidence_rows,
    open_alert_count,
    person_alerts,
)
from dashboard.selectors.common import CappedCount, capped_count, first_monday
from dashboard.selectors.coverage import (
    CoverageCalendar,
    coverage_calendar,
    gaps_at_risk,
    recent_rereads,
)
from dashboard.selectors.downloads import (
    download_list,
    download_totals,
    download_totals_from_rollups,
)
from dashboard.selectors.people import (
    person_by_category,
    person_by_day,
    person_by_vendor,
    person_downloads,
    person_events,
    person_key,
)
from dashboard.selectors.sources import SourceHealth, source_health, unmapped_actions
from dashboard.selectors.users import (
    ActivityBuckets,
    activity_buckets,
    latest_snapshot,
    lightdash_snapshots,
    top_people,
    weekly_active_people,
)

__all__ = [
    "ActivityBuckets",
    "CappedCount",
    "CoverageCalendar",
    "DayCounts",
    "EvidenceRow",
    "RuleCount",
    "SourceHealth",
    "activity_buckets",
    "activity_facets",
    "alert_deliveries",
    "alert_evidence",
    "alert_list",
    "alert_log_query",
    "alert_rule_counts",
    "alert_subject_match",
    "capped_count",
    "coverage_calendar",
    "download_list",
    "download_totals",
    "download_totals_from_rollups",
    "event_count",
    "event_days",
    "event_list",
    "event_page",
    "evidence_rows",
    "facet_counts",
    "first_monday",
    "gaps_at_risk",
    "latest_snapshot",
    "lightdash_snapshots",
    "newest_event_time",
    "open_alert_count",
    "person_alerts",
    "person_by_category",
    "person_by_day",
    "person_by_vendor",
    "person_downloads",
    "person_events",
    "person_key",
    "recent_rereads",
    "search_is_countable",
    "source_health",
    "text_match",
    "top_people",
    "unmapped_actions",
    "weekly_active_people",
]
