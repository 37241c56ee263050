"""Notifications: new alerts reach email and webhook destinations as one message per burst,
signed, retried with backoff, never failing an evaluation, and never showing a secret."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from activity.detections.engine import detections_evaluate
from activity.detections.models import Alert, Delivery, Destination
from activity.detections.notifications.selectors import alert_deliveries
from activity.detections.notifications.services import deliveries_send_due, retry_delay
from activity.vocabulary import Category
from tests.activity.detections.conftest import NOW
from tests.activity.detections.notify_servers import (
    SmtpServer,
    WebhookReceiver,
    free_port,
    serving,
)

pytestmark = pytest.mark.django_db

SECRET = "whsec-0123456789abcdef-shared"
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def notification_settings(settings):
    settings.TASKS = IMMEDIATE  # the sending queued on commit runs at once
    settings.DASHBOARD_URL = "https://dash.example.com/"
    settings.DEFAULT_FROM_EMAIL = "alerts@example.com"
    settings.NOTIFICATION_TIMEOUT = 5
    return settings


def smtp_mailer(port: int) -> dict:
    smtp = "django.core.mail.backends.smtp.EmailBackend"
    return {"default": {"BACKEND": smtp, "OPTIONS": {"host": "127.0.0.1", "port": port}}}


@pytest.fixture
def smtp(settings):
    server = SmtpServer()
    server.controller.start()
    settings.MAILERS = smtp_mailer(server.port)
    yield server
    server.controller.stop()


@pytest.fixture
def receiver():
    hook = WebhookReceiver()
    server = serving(hook)
    yield hook
    server.shutdown()
    server.server_close()


def destination(name: str, **fields) -> Destination:
    secret = fields.pop("secret", "")
    made = Destination(name=name, **fields)
    made.secret = secret
    made.full_clean()
    made.save()
    return made


def email_to(*recipients: str, **fields) -> Destination:
    return destination("security team", kind="email", recipients="\n".join(recipients), **fields)


def webhook_to(url: str, **fields) -> Destination:
    name = fields.pop("name", "slack")
    return destination(name, kind="webhook", url=url, secret=SECRET, **fields)


@pytest.fixture
def raise_alerts(source, person, events, django_capture_on_commit_callbacks):
    """Raise one sensitive-change alert (low) for each of ``count`` new people, in one
    evaluation run, with the notifications it queues sent."""

    def run(count: int, *, first: int = 0) -> list[Alert]:
        for number in range(first, first + count):
            events(person(f"Person {number}"), [NOW], category=Category.PERMISSION)
        with django_capture_on_commit_callbacks(execute=True):
            outcome = detections_evaluate(source_id=source.pk)
        return list(Alert.objects.filter(pk__in=outcome.raised).order_by("pk"))

    return run


def expected_signature(received) -> str:
    signed = received.headers["X-Signature-Timestamp"].encode() + b"." + received.body
    return "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()


def test_new_alerts_are_one_email_with_each_alerts_rule_severity_person_and_link(
    smtp, raise_alerts
):
    email_to("soc@example.com", "ciso@example.com")
    alerts = raise_alerts(5)
    [mail] = smtp.messages
    assert mail["Subject"] == "5 new alerts"
    assert mail["From"] == "alerts@example.com"
    assert mail["X-Envelope-To"] == "soc@example.com, ciso@example.com"
    body = mail.get_content()
    for number, alert in enumerate(alerts):
        assert f"[LOW] Sensitive change: Person {number}" in body
        assert alert.explanation in body
        assert f"https://dash.example.com/alerts/{alert.pk}/" in body
    [delivery] = Delivery.objects.all()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("sent", 1, "")
    assert set(delivery.alerts.all()) == set(alerts) and delivery.sent_at is not None


def test_a_webhook_gets_slack_json_signed_with_the_shared_secret(receiver, raise_alerts):
    webhook_to(receiver.url())
    [alert] = raise_alerts(1)
    [request] = receiver.requests
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Signature-SHA256"] == expected_signature(request)
    sent_at = int(request.headers["X-Signature-Timestamp"])
    assert abs(sent_at - timezone.now().timestamp()) < 300
    payload = request.json
    assert payload["text"] == "1 new alert: Sensitive change (low)"
    section = payload["blocks"][1]["text"]["text"]
    assert f"<https://dash.example.com/alerts/{alert.pk}/|Sensitive change>" in section
    assert "Person 0" in section and alert.explanation in section


def test_a_tampered_body_or_timestamp_fails_the_signature(receiver, raise_alerts):
    webhook_to(receiver.url())
    raise_alerts(1)
    [request] = receiver.requests
    request.body = request.body.replace(b"Person 0", b"Person 9")
    assert request.headers["X-Signature-SHA256"] != expected_signature(request)


def test_a_burst_of_fifty_alerts_is_one_message_per_destination(smtp, receiver, raise_alerts):
    email_to("soc@example.com")
    webhook_to(receiver.url())
    alerts = raise_alerts(50)
    assert len(alerts) == 50
    assert len(smtp.messages) == 1 and len(receiver.requests) == 1
    assert smtp.messages[0]["Subject"] == "50 new alerts"
    assert "and 30 more: https://dash.example.com/alerts/" in smtp.messages[0].get_content()
    assert len(receiver.requests[0].json["blocks"]) <= 50
    assert [d.alerts.count() for d in Delivery.objects.all()] == [50, 50]


def test_a_receiver_failing_then_answering_is_retried_with_the_attempts_recorded(
    receiver, raise_alerts
):
    webhook_to(receiver.url())
    receiver.statuses = [500, 200]
    receiver.answer = "database unavailable"
    [alert] = raise_alerts(1)
    [delivery] = alert_deliveries(alert)
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert delivery.last_error == (
        "webhook answered HTTP 500 Internal Server Error: database unavailable"
    )
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert deliveries_send_due() == []  # not due yet
    [retried] = deliveries_send_due(now=delivery.next_attempt_at)
    assert (retried.state, retried.attempts, retried.last_error) == ("sent", 2, "")
    assert len(receiver.requests) == 2
    assert all(r.headers["X-Signature-SHA256"] == expected_signature(r) for r in receiver.requests)


def test_retries_back_off_exponentially():
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]


def test_an_unreachable_webhook_fails_its_delivery_and_not_the_others_nor_the_evaluation(
    smtp, raise_alerts, settings
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    webhook_to(f"http://127.0.0.1:{free_port()}/hook")
    email_to("soc@example.com")
    raise_alerts(2)  # no exception escapes
    assert len(smtp.messages) == 1
    webhook = Delivery.objects.get(destination__kind="webhook")
    assert webhook.state == "pending" and webhook.last_error.startswith(
        "could not reach the webhook: ConnectError"
    )
    later = timezone.now()
    for _ in range(2):
        later += timedelta(hours=1)
        deliveries_send_due(now=later)
    webhook.refresh_from_db()
    assert (webhook.state, webhook.attempts, webhook.next_attempt_at) == ("failed", 3, None)
    assert Delivery.objects.get(destination__kind="email").state == "sent"


def test_an_unreachable_smtp_server_is_an_error_on_the_delivery(raise_alerts, settings):
    settings.MAILERS = smtp_mailer(free_port())
    email_to("soc@example.com")
    raise_alerts(1)
    delivery = Delivery.objects.get()
    assert delivery.state == "pending" and delivery.attempts == 1
    assert delivery.last_error.startswith("could not reach the SMTP server: ConnectionRefused")


def test_an_smtp_refusal_is_recorded_with_the_servers_reply(smtp, raise_alerts):
    smtp.refuse_with = "550 5.1.1 mailbox unavailable"
    email_to("gone@example.com")
    raise_alerts(1)
    delivery = Delivery.objects.get()
    assert delivery.last_error == (
        "SMTP server refused the recipients: gone@example.com: 550 5.1.1 mailbox unavailable"
    )


def test_the_secret_never_shows_in_the_admin_the_error_or_the_logs(
    receiver, raise_alerts, admin_client, caplog
):
    # The URL's path is a credential too (as in Slack's webhook URLs); this receiver echoes it.
    receiver.statuses = [404]
    receiver.answer = f"no such hook {{path}} {SECRET}"
    hook = webhook_to(receiver.url("/hook/T0/B0/token-in-the-path"))
    with caplog.at_level(logging.INFO):
        [alert] = raise_alerts(1)
    delivery = Delivery.objects.get()
    assert delivery.last_error.startswith("webhook answered HTTP 404 Not Found")
    pages = [
        admin_client.get(reverse("admin:activity_destination_change", args=[hook.pk])),
        admin_client.get(reverse("admin:activity_destination_changelist")),
        admin_client.get(reverse("admin:activity_delivery_change", args=[delivery.pk])),
        admin_client.get(reverse("admin:activity_alert_change", args=[alert.pk])),
        admin_client.get(reverse("alert", args=[alert.pk])),
    ]
    assert all(page.status_code == 200 for page in pages)
    assert "webhook answered HTTP 404" in pages[-1].content.decode()
    assert "Shared secret" in pages[0].content.decode() and "set" in pages[0].content.decode()
    for text in [delivery.last_error, caplog.text, *(p.content.decode() for p in pages)]:
        assert SECRET not in text
    for text in [delivery.last_error, caplog.text, *(p.content.decode() for p in pages[2:])]:
        assert "token-in-the-path" not in text
    assert "webhook answered HTTP 404" in caplog.text
    assert SECRET not in hook.secret_encrypted


def test_the_alert_shows_its_deliveries(smtp, raise_alerts, admin_client):
    email_to("soc@example.com")
    [alert] = raise_alerts(1)
    [delivery] = alert_deliveries(alert)
    assert (delivery.destination.name, delivery.state) == ("security team", "sent")
    page = admin_client.get(reverse("admin:activity_alert_change", args=[alert.pk]))
    assert "security team</a>: Sent, 1 attempt(s), sent " in page.content.decode()
    page = admin_client.get(reverse("alert", args=[alert.pk])).content.decode()
    assert "Notifications" in page and "security team" in page and ">Sent</span>" in page


def test_only_new_alerts_notify_not_alerts_gaining_events(
    smtp, raise_alerts, source, events, django_capture_on_commit_callbacks
):
    email_to("soc@example.com")
    [alert] = raise_alerts(1)
    events(alert.person, [NOW + timedelta(hours=1)], category=Category.PERMISSION)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = detections_evaluate(source_id=source.pk)
    assert outcome.grown == [alert.pk]
    assert len(smtp.messages) == 1 and Delivery.objects.count() == 1


def test_a_destination_gets_only_its_rules_from_its_severity_up(smtp, raise_alerts):
    email_to("soc@example.com", rules=["bulk_export"])
    destination("high only", kind="email", recipients="x@example.com", min_severity="high")
    destination("off", kind="email", recipients="y@example.com", enabled=False)
    raise_alerts(3)  # sensitive changes: low
    assert smtp.messages == [] and not Delivery.objects.exists()


def test_deliveries_left_open_by_a_killed_evaluation_are_sent_later(
    smtp, raise_alerts, monkeypatch
):
    from activity.detections import engine

    email_to("soc@example.com")
    monkeypatch.setattr(engine, "notifications_release", lambda: [])  # killed before it
    raise_alerts(2)
    delivery = Delivery.objects.get()
    assert delivery.next_attempt_at is None and smtp.messages == []
    deliveries_send_due()
    assert smtp.messages == []  # still within the batching window
    call_command("send_notifications", stdout=open("/dev/null", "w"))  # noqa: SIM115
    deliveries_send_due(now=timezone.now() + timedelta(minutes=11))
    delivery.refresh_from_db()
    assert delivery.state == "sent" and len(smtp.messages) == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"kind": "webhook", "url": "http://hooks.example.com/x", "secret": SECRET},
            "url",
            "Use https:// (plain http:// is allowed only to this machine: 127.0.0.1, ::1).",
        ),
        (
            {"kind": "webhook", "url": "https://hooks.example.com/x"},
            "__all__",
            "A webhook needs a shared secret to sign its requests.",
        ),
        (
            {"kind": "email", "recipients": " \n "},
            "recipients",
            "An email destination needs at least one recipient address.",
        ),
        (
            {"kind": "email", "recipients": "soc@example.com, not-an-address"},
            "recipients",
            "'not-an-address' is not an email address.",
        ),
        (
            {"kind": "email", "recipients": "soc@example.com", "rules": ["bulk_exports"]},
            "rules",
            "Unknown rule bulk_exports; the rules are bulk_export, vendor_support_access, "
            "failed_signin_burst, active_after_deactivation, unusual_hours, sensitive_change.",
        ),
    ],
)
def test_bad_destinations_are_refused_with_their_reason(fields, field, message):
    with pytest.raises(ValidationError) as refused:
        destination("bad", **fields)
    assert refused.value.message_dict == {field: [message]}
    assert not Destination.objects.exists()


def test_the_admin_refuses_a_remote_http_webhook_and_keeps_the_secret_write_only(admin_client):
    url = reverse("admin:activity_destination_add")
    form = {
        "name": "slack",
        "kind": "webhook",
        "enabled": "on",
        "min_severity": "low",
        "url": "http://hooks.example.com/x",
        "new_secret": SECRET,
    }
    page = admin_client.post(url, form).content.decode()
    assert "Use https://" in page and SECRET not in page
    response = admin_client.post(url, {**form, "url": "https://hooks.example.com/x"})
    assert response.status_code == 302
    hook = Destination.objects.get()
    assert hook.secret == SECRET
    change = reverse("admin:activity_destination_change", args=[hook.pk])
    edited = admin_client.post(change, {**form, "url": hook.url, "new_secret": "", "rules": []})
    assert edited.status_code == 302
    hook.refresh_from_db()
    assert hook.secret == SECRET  # an empty field keeps the stored secret


def test_with_the_database_backend_a_retry_is_queued_for_its_time(
    receiver, raise_alerts, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    webhook_to(receiver.url())
    receiver.statuses = [503]
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    raise_alerts(1)
    [first] = DBTaskResult.objects.all()
    assert first.args_kwargs["kwargs"] == {"delivery_id": Delivery.objects.get().pk}
    assert receiver.requests == []  # a worker sends it
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_notifications", stdout=open("/dev/null", "w"))  # noqa: SIM115
    delivery = Delivery.objects.get()
    assert (delivery.attempts, delivery.state) == (1, "pending")
    retry = DBTaskResult.objects.exclude(pk=first.pk).get()
    assert retry.run_after == delivery.next_attempt_at


def test_a_switched_off_destination_fails_what_it_had_pending(receiver, raise_alerts):
    hook = webhook_to(receiver.url())
    receiver.statuses = [500]
    raise_alerts(1)
    Destination.objects.filter(pk=hook.pk).update(enabled=False)
    [delivery] = deliveries_send_due(now=timezone.now() + timedelta(hours=1))
    assert (delivery.state, delivery.last_error) == ("failed", "the destination is switched off")
    assert len(receiver.requests) == 1


def test_send_again_starts_a_failed_delivery_over(receiver, raise_alerts, admin_client, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    webhook_to(receiver.url())
    receiver.statuses = [500]
    raise_alerts(1)
    delivery = Delivery.objects.get()
    assert delivery.state == "failed"
    response = admin_client.post(
        reverse("admin:activity_delivery_changelist"),
        {"action": "send_again", "_selected_action": [delivery.pk]},
    )
    assert response.status_code == 302
    deliveries_send_due()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, len(receiver.requests)) == ("sent", 1, 2)


def test_a_message_lists_the_most_severe_first_and_escapes_slack_markup():
    from activity.detections.notifications.message import notification_message

    low = Alert(pk=1, rule="sensitive_change", severity="low", subject="a", explanation="x")
    high = Alert(
        pk=2,
        rule="failed_signin_burst",
        severity="high",
        subject="IP 192.0.2.1",
        explanation="10 failed sign-ins <script> & more",
    )
    message = notification_message([low, high])
    assert message.text.index("[HIGH] Failed sign-in burst: IP 192.0.2.1") < message.text.index(
        "[LOW] Sensitive change: a"
    )
    first = message.slack["blocks"][1]["text"]["text"]
    assert "sign-ins &lt;script&gt; &amp; more" in first and "<script>" not in first
