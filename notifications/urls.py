"""Portal URLs."""

from django.urls import path

from notifications.oncall.views import AcknowledgePageView, ContactMethodsView

app_name = "notifications"

urlpatterns: list = [
    path(
        "pages/acknowledge/<str:token>/",
        AcknowledgePageView.as_view(),
        name="acknowledge-page",
    ),
    path(
        "profile/contact-methods/",
        ContactMethodsView.as_view(),
        name="contact-methods",
    ),
]
