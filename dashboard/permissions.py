"""Viewers read (the view-event permission); staff with change rights manage sources and
take decisions about people (merges, splits, undo) and triage alerts."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required

VIEW_PERMISSION = "activity.view_activityevent"
MANAGE_PERMISSION = "activity.change_source"
PEOPLE_PERMISSION = "activity.change_person"
TRIAGE_PERMISSION = "activity.change_alert"


def viewer_required(view):
    return login_required(permission_required(VIEW_PERMISSION, raise_exception=True)(view))


def can_manage_sources(user) -> bool:
    return user.is_staff and user.has_perm(MANAGE_PERMISSION)


def can_decide_people(user) -> bool:
    return user.is_staff and user.has_perm(PEOPLE_PERMISSION)


def can_triage_alerts(user) -> bool:
    return user.is_staff and user.has_perm(TRIAGE_PERMISSION)
