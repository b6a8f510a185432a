"""Alerts that reach a person: when a job or an asset check fails, and when it recovers.

- ``grouping``: the pure state machine deciding what to send (cooldown, grouping,
  recovery), with JSON state;
- ``messages``: what the message says;
- ``dispatch``: the configured channels, and sending to all of them;
- ``watch``: one sensor tick against the Dagster instance (the sensor itself is
  ``phoenix_assets.defs.automation.alerts.run_failure_alerts``).
"""
