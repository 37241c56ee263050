"""Notifications: alerts sent by email or webhook, a burst of them as one message.

- ``destinations``: what makes a destination valid (addresses, an https URL, known rules).
- ``message``: the one message for a batch of alerts (subject, text, Slack blocks).
- ``transports``: sending by email (Django's mail) and by signed webhook (HMAC-SHA256).
- ``services``: alerts raised by an evaluation gathered into one delivery per destination,
  released when it ends; sending with retries and backoff.
- ``selectors``: deliveries as the alert's page shows them; ``tasks``: the sending task.
"""
