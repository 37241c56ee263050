"""Sending one message: by email through Django's default mailer, or as a signed webhook.

A failure raises ``DeliveryFailed`` with what the server said (an SMTP reply, an HTTP status
and reason), with the destination's URL and secrets taken out: it is stored and shown."""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.mail import EmailMessage

from activity.detections.models import Destination
from activity.detections.notifications.message import Message

SIGNATURE_HEADER = "X-Signature-SHA256"
TIMESTAMP_HEADER = "X-Signature-Timestamp"
REDACTED = "[redacted]"


class DeliveryFailed(Exception):
    """The destination did not take the message; the text says why, without secrets."""


def message_send(destination: Destination, message: Message) -> None:
    try:
        if destination.kind == Destination.Kind.EMAIL:
            _email_send(destination, message)
        else:
            _webhook_send(destination, message)
    except DeliveryFailed as error:
        raise DeliveryFailed(_redacted(str(error), destination)) from None


def _email_send(destination: Destination, message: Message) -> None:
    email = EmailMessage(
        subject=message.subject,
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=destination.recipient_list,
    )
    try:
        email.send(using="default")
    except smtplib.SMTPRecipientsRefused as error:
        refused = "; ".join(f"{to}: {_reply(*reply)}" for to, reply in error.recipients.items())
        raise DeliveryFailed(f"SMTP server refused the recipients: {refused}") from None
    except smtplib.SMTPResponseException as error:
        reply = _reply(error.smtp_code, error.smtp_error)
        raise DeliveryFailed(f"SMTP server answered {reply}") from None
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryFailed(f"could not reach the SMTP server: {_plain(error)}") from None


def _webhook_send(destination: Destination, message: Message) -> None:
    body = json.dumps(message.slack, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "activity-dashboard-notifications",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: webhook_signature(destination.secret, timestamp, body),
    }
    try:
        response = httpx.post(
            destination.url,
            content=body,
            headers=headers,
            timeout=settings.NOTIFICATION_TIMEOUT,
            follow_redirects=False,
        )
    except httpx.HTTPError as error:
        raise DeliveryFailed(f"could not reach the webhook: {_plain(error)}") from None
    if not response.is_success:
        reason = response.reason_phrase or "no reason given"
        if response.is_redirect:
            reason += " (redirects are not followed: give the final URL)"
        excerpt = " ".join(response.text[:200].split())
        raise DeliveryFailed(
            f"webhook answered HTTP {response.status_code} {reason}"
            + (f": {excerpt}" if excerpt else "")
        )


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256, keyed by the secret, of ``timestamp.body``."""
    signed = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return f"{code} {' '.join(text.split())}"


def _plain(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _redacted(text: str, destination: Destination) -> str:
    """The error as it may be stored and shown: no URL nor its path (a Slack webhook's path
    is a credential), no secret, no SMTP password, whatever a server or library echoed."""
    mailer = settings.MAILERS.get("default", {}).get("OPTIONS", {})
    parts = urlsplit(destination.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    secrets = [destination.url, path if len(path) > 1 else "", destination.secret]
    secrets.append(mailer.get("password"))
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text[:1000]
