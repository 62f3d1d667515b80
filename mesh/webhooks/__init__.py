"""Outbound webhooks: events delivered to operator-registered URLs as signed JSON, by Django-Q2 tasks.

``signing`` (the Stripe-style signature header) and ``topics`` (wildcard patterns) import nothing from Django;
``hook`` is what ``mesh.publish`` calls; ``services`` holds the writes and the delivery attempts.
"""
