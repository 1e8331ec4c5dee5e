"""On-call: schedules (rotations, layers, overrides, swaps), escalation
policies, pages and acknowledgements.

``schedule_models`` and ``schedules`` hold who is on call when;
``escalation_models`` and ``escalation`` who is paged until someone
acknowledges. The models are imported by ``notifications.models`` so that Django
sees them in this app.
"""
