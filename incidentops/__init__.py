"""IncidentOps: the project's wiring (settings, Celery, URLs, API base, accounts)."""

from incidentops.celery import app as celery_app

__all__ = ["celery_app"]
