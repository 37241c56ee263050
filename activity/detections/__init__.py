"""Detections: built-in rules that read new events (and each person's history) and raise alerts.

- ``base``: what every rule shares: the event rows it reads, the ``Finding`` it returns, and
  typed, validated thresholds.
- one module per rule (``bulk_export``, ``vendor_support_access``...): its name, what it
  catches, its ``Settings`` and ``find(events, settings, context)``.
- ``history``: the indexed reads of stored events that rules build baselines from.
- ``engine``: runs the enabled rules over a source's new events in committed batches and
  groups findings into alerts; it knows nothing of any one rule.
- ``tasks``: the task queued after each sync; ``exports``: ``export_alerts``' rows.
- ``notifications``: new alerts sent to email and webhook destinations, batched and retried.
"""
