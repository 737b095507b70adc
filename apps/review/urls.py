from django.urls import path

from apps.review import apis

urlpatterns = [
    path("projects/<str:project_id>/review/next", apis.ReviewNextApi.as_view(), name="api-review-next"),
    path("labels/<str:label_id>/reviews", apis.LabelReviewsApi.as_view(), name="api-label-reviews"),
]
