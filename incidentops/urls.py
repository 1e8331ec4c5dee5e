"""URL map. Each app owns its portal URLs (``urls.py``) and its API routes
(``api.register(router)``); all API routes share one router under ``/api/v1/``."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

import incidents.api
import notifications.api
import reviews.api
from incidentops.auth import ThrottledPasswordResetView
from incidentops.health import healthz
from incidentops.metrics import metrics_view

admin.site.site_header = "IncidentOps configuration"
admin.site.site_title = "IncidentOps admin"
admin.site.index_title = "Configuration"

router = DefaultRouter()
for app_api in (incidents.api, notifications.api, reviews.api):
    app_api.register(router)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path(
        "accounts/password_reset/",
        ThrottledPasswordResetView.as_view(),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path(
        "api/v1/integrations/<int:pk>/alerts/",
        incidents.api.AlertIngestView.as_view(),
        name="alert-ingest",
    ),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    path("reviews/", include("reviews.urls")),
    path("", include("notifications.urls")),
    path("", include("incidents.urls")),
]
