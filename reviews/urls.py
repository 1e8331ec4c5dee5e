"""Portal URLs under /reviews/."""

from django.urls import path

from reviews import views

app_name = "reviews"

urlpatterns = [
    path("", views.ReviewListView.as_view(), name="list"),
    path("<int:pk>/", views.ReviewDetailView.as_view(), name="detail"),
    path("<int:pk>/print/", views.ReviewPrintView.as_view(), name="print"),
    path("<int:pk>/review.md", views.ReviewMarkdownView.as_view(), name="markdown"),
    path("<int:pk>/review.pdf", views.ReviewPdfView.as_view(), name="pdf"),
    path("batches/", views.BatchReviewListView.as_view(), name="batch_list"),
    path(
        "batches/<int:pk>/", views.BatchReviewDetailView.as_view(), name="batch_detail"
    ),
]
