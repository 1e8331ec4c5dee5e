"""Template context shared by every portal page."""

from django.conf import settings


def site(request) -> dict:
    return {
        "SITE_URL": settings.SITE_URL,
        "ORG_TIME_ZONE": settings.INCIDENTOPS_TIME_ZONE,
    }
