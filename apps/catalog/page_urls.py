from django.urls import path

from apps.catalog import views

urlpatterns = [
    path("catalog/", views.catalog_home, name="catalog-home"),
    path("catalog/datasets/<str:dataset_id>/", views.catalog_dataset, name="catalog-dataset"),
    path("catalog/rows/<str:data_row_id>/lineage/", views.data_row_lineage, name="catalog-lineage"),
]
