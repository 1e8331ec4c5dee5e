"""Reactions to the incident core's domain events (``incidents/events.py``).

They run inside the publishing service's transaction and only write rows. Filing
a review keeps a record rather than sending anything, so it carries on while
history is imported (the demo's past incidents get their reviews too).
"""

from reviews import services


def on_incident_resolved(sender, *, incident, actor=None, **kwargs) -> None:
    """File the resolved incident for review as its severity's policy says."""
    services.review_open_for_incident(
        incident=incident, actor=actor, now=incident.resolved_at
    )


def on_incident_severity_confirmed(
    sender, *, incident, previous_severity=None, actor=None, **kwargs
) -> None:
    """A raise after resolution re-files the review under the stricter policy."""
    services.review_apply_severity_change(
        incident=incident, previous_severity=previous_severity, actor=actor
    )


def on_incident_imported(
    sender, *, incident, review=None, actor=None, **kwargs
) -> None:
    """Store an imported incident's review, if its file had one, as completed."""
    if review:
        services.review_import(incident=incident, content=review, actor=actor)
