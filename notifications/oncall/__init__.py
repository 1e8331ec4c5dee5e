"""On-call: schedules (rotations, layers, overrides, swaps) and escalation.

``schedule_models`` and ``schedules`` hold who is on call when; the models are
imported by ``notifications.models`` so that Django sees them in this app.
"""
