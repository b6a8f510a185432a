"""Delivery: getting a message to a person, by email (SMTP) or webhook (Slack or generic JSON).

General on purpose: alerts use it today, market reports later. Settings come from the
environment (``settings``); a ``Notification`` (``message``) is rendered per channel
(``channels``), sent by ``email`` or ``webhook``.
"""
