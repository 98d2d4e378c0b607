"""Alerts: detections turned into sequences and alerts by the admin's rules, quiet on
low-risk days, and falls from WiFi sensing.

- :mod:`engine.alerts.rules`: what raises an alert (camera or room, zone, trigger, armed
  schedule), checked and stored through guarded commands.
- :mod:`engine.alerts.sequences`: the sequence builder (detections → runs → sequences with a
  monotonic ``max_conf``) and the store commands that create, extend, group and label them.
- :mod:`engine.alerts.risk_classes`: each camera's daily risk class from the local risk
  model or an HTTP risk API, cached, refreshed daily, failing open.
- :mod:`engine.alerts.filtering`: the low-risk filter as one SQL condition and the exact
  pages and counts of alerts with their passing sequences.
- :mod:`engine.alerts.records`: alerts raised, acknowledged and escalated; webhook outcomes.
- :mod:`engine.alerts.snoozes`: an operator's snooze of one camera's alerts for some
  minutes (stored, audited; its sequences kept but notifying nobody until it ends).
- :mod:`engine.alerts.actions`: the use cases the CLI, the console and MQTT call, each with
  the permission it needs.
- :mod:`engine.alerts.service`: the engine's alert service (rules, notifications through the
  gate, escalation, webhooks).
- :mod:`engine.alerts.webhooks`: delivery of alerts to configured webhooks (a JSON POST
  per alert and target, with a timeout and one retry, on one ``alert-webhook-<n>`` thread
  per target, so a slow webhook never delays detection or another webhook), each delivery's
  outcome reported for storage.
"""
