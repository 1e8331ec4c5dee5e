"""Portal URLs: the status board, declaring, the incident page and my work."""

from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    path("", views.BoardView.as_view(), name="board"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("my/", views.MyWorkView.as_view(), name="my_work"),
    path("insights/", views.InsightsView.as_view(), name="insights"),
    path("incidents/", views.PastIncidentsView.as_view(), name="list"),
    path("incidents/new/", views.DeclareView.as_view(), name="declare"),
    path("incidents/suggest/", views.SuggestView.as_view(), name="suggest"),
    path(
        "incidents/<str:reference>/",
        views.IncidentDetailView.as_view(),
        name="detail",
    ),
    path(
        "incidents/<str:reference>/severity/",
        views.ConfirmSeverityView.as_view(),
        name="confirm_severity",
    ),
    path(
        "incidents/<str:reference>/type/",
        views.IncidentTypeView.as_view(),
        name="change_type",
    ),
    path(
        "incidents/<str:reference>/restriction/",
        views.RestrictionView.as_view(),
        name="restriction",
    ),
    path(
        "incidents/<str:reference>/acknowledge/",
        views.AcknowledgeView.as_view(),
        name="acknowledge",
    ),
    path(
        "incidents/<str:reference>/status/",
        views.TransitionView.as_view(),
        name="transition",
    ),
    path(
        "incidents/<str:reference>/roles/",
        views.AssignRoleView.as_view(),
        name="assign_role",
    ),
    path(
        "incidents/<str:reference>/roles/ask/",
        views.RoleRequestView.as_view(),
        name="role_request",
    ),
    path(
        "incidents/<str:reference>/roles/requests/<int:pk>/",
        views.RoleRequestAnswerView.as_view(),
        name="role_request_answer",
    ),
    path(
        "incidents/<str:reference>/actions/",
        views.ActionCreateView.as_view(),
        name="action_create",
    ),
    path(
        "incidents/<str:reference>/actions/<int:pk>/",
        views.ActionUpdateView.as_view(),
        name="action_update",
    ),
    path(
        "incidents/<str:reference>/updates/",
        views.StakeholderUpdateView.as_view(),
        name="stakeholder_update",
    ),
    path(
        "incidents/<str:reference>/times/",
        views.CorrectTimesView.as_view(),
        name="correct_times",
    ),
    path(
        "incidents/<str:reference>/duplicate/",
        views.MarkDuplicateView.as_view(),
        name="mark_duplicate",
    ),
    path(
        "incidents/<str:reference>/links/",
        views.LinkView.as_view(),
        name="link",
    ),
    path(
        "incidents/<str:reference>/links/<int:pk>/remove/",
        views.UnlinkView.as_view(),
        name="unlink",
    ),
    path(
        "incidents/<str:reference>/regulatory/",
        views.RegulatoryNotificationView.as_view(),
        name="regulatory_notification",
    ),
    path(
        "incidents/<str:reference>/notes/",
        views.NoteView.as_view(),
        name="note",
    ),
]
