"""Portal URLs."""

from django.urls import path

from notifications.oncall import schedule_views
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
    path(
        "oncall/schedules/",
        schedule_views.ScheduleListView.as_view(),
        name="schedules",
    ),
    path(
        "oncall/schedules/<int:pk>/",
        schedule_views.ScheduleDetailView.as_view(),
        name="schedule",
    ),
    path(
        "oncall/schedules/<int:pk>/feed/",
        schedule_views.FeedView.as_view(),
        name="schedule-feed",
    ),
    path(
        "oncall/swaps/<int:pk>/<str:verb>/",
        schedule_views.SwapAnswerView.as_view(),
        name="swap-answer",
    ),
    path(
        "oncall/calendar/<str:token>.ics",
        schedule_views.CalendarFeedView.as_view(),
        name="calendar-feed",
    ),
]
