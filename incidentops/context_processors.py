"""Template context shared by every portal page."""

from django.conf import settings

from incidentops.timezones import org_zone_name


def site(request) -> dict:
    return {
        "SITE_URL": settings.SITE_URL,
        "ORG_TIME_ZONE": org_zone_name(),
    }
