"""Alerts raised by the engine: for now fall alerts from WiFi sensing; alert rules come later.

- :mod:`engine.alerts.webhooks`: delivery of alerts to configured webhooks (a JSON POST
  per alert and target, with a timeout and one retry, on one ``alert-webhook-<n>`` thread
  per target, so a slow webhook never delays detection or another webhook), each delivery's
  outcome reported for storage.
"""
