"""The one message for a batch of alerts: the same content as an email and as Slack JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from activity.detections.models import SEVERITY_RANK, Alert

# A message lists this many alerts and links to the rest: Slack takes at most 50 blocks.
LISTED = 20


@dataclass(frozen=True)
class Message:
    subject: str
    text: str  # plain text: the email's body
    slack: dict  # {"text": ..., "blocks": [...]}


def alert_url(alert_id: int) -> str:
    return f"{settings.DASHBOARD_URL.rstrip('/')}/alerts/{alert_id}/"


def notification_message(alerts: Sequence[Alert]) -> Message:
    """Every alert's rule, severity, who, explanation and link, most severe first."""
    alerts = sorted(alerts, key=lambda a: (-SEVERITY_RANK.get(a.severity, 0), a.pk))
    count = len(alerts)
    subject = f"{count} new alert" + ("" if count == 1 else "s")
    if count == 1:
        subject += f": {alerts[0].get_rule_display()} ({alerts[0].severity})"
    listed = alerts[:LISTED]
    rest = count - len(listed)
    more = f"and {rest} more: {settings.DASHBOARD_URL.rstrip('/')}/alerts/" if rest else ""
    lines = [subject, ""]
    for alert in listed:
        lines += [
            f"[{alert.severity.upper()}] {alert.get_rule_display()}: {_who(alert)}",
            f"  {alert.explanation}",
            f"  {alert_url(alert.pk)}",
            "",
        ]
    if more:
        lines.append(more)
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": subject[:150]}}]
    blocks += [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    f"*{_escape(alert.severity.upper())}* <{alert_url(alert.pk)}|"
                    f"{_escape(alert.get_rule_display())}>: {_escape(_who(alert))}\n"
                    f"{_escape(alert.explanation)}"
                )[:3000],
            },
        }
        for alert in listed
    ]
    if more:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    return Message(
        subject=subject,
        text="\n".join(lines).rstrip() + "\n",
        slack={"text": _escape(subject), "blocks": blocks},
    )


def _who(alert: Alert) -> str:
    if alert.person_id:
        person = alert.person
        return person.display_name or person.primary_email or f"person {person.pk}"
    return alert.subject or "unknown"


def _escape(text: str) -> str:
    """Slack's mrkdwn: these three are control characters, everything else is shown as is."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
