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
    sender, *, incident, created=True, review=None, actor=None, **kwargs
) -> None:
    """Store an imported incident's review, if its file had one, as completed
    (its lessons indexed); a re-import without one re-files the lessons of the
    review it has under the incident's type and services."""
    if review:
        services.review_import(incident=incident, content=review, actor=actor)
    elif not created:
        services.lessons_refile(incident=incident)


def on_incidents_imported(sender, *, imported, actor=None, **kwargs) -> None:
    """Store the completed reviews of a batch of new imported incidents."""
    with_review = [(incident, review) for incident, review in imported if review]
    if with_review:
        services.review_import_new(imported=with_review, actor=actor)


def on_incident_updated(sender, *, incident, changes, actor=None, **kwargs) -> None:
    """A changed type or affected services re-files the incident's lessons."""
    if "incident_type" in changes or "affected_services" in changes:
        services.lessons_refile(incident=incident)
