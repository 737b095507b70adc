from django.urls import path

from apps.labeling import import_views

app_name = "labeling-imports"

urlpatterns = [
    path("datasets/", import_views.datasets_page, name="datasets"),
    path("datasets/<str:dataset_id>/import/", import_views.dataset_import_page, name="dataset"),
    path("datasets/<str:dataset_id>/import/existing", import_views.existing_keys, name="existing"),
    path("datasets/<str:dataset_id>/import/batch", import_views.batch_from_import, name="batch"),
    path("imports/errors.csv", import_views.errors_csv, name="errors-csv"),
]
