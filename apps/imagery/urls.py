from django.urls import path

from apps.imagery import apis

urlpatterns = [
    path("datasets/<str:dataset_id>/dicom", apis.DicomImportApi.as_view(), name="api-dataset-dicom"),
    path("imaging/settings", apis.ImagingSettingsApi.as_view(), name="api-imaging-settings"),
    path("data_rows/<str:data_row_id>/imaging", apis.DataRowImagingApi.as_view(), name="api-data-row-imaging"),
    path(
        "data_rows/<str:data_row_id>/dicom/slices/<str:position>",
        apis.DicomSliceApi.as_view(),
        name="api-data-row-dicom-slice",
    ),
    path("datasets/<str:dataset_id>/large_images", apis.LargeImageUploadApi.as_view(), name="api-dataset-large-images"),
    path(
        "data_rows/<str:data_row_id>/tiles/<str:level>/<str:tile>",
        apis.TileApi.as_view(),
        name="api-data-row-tile",
    ),
    path(
        "datasets/<str:dataset_id>/tile_services", apis.TileServiceCreateApi.as_view(), name="api-dataset-tile-services"
    ),
    path("data_rows/<str:data_row_id>/xyz/<str:z>/<str:x>/<str:y>", apis.XyzTileApi.as_view(), name="api-data-row-xyz"),
    path("imaging/rows", apis.ImagingAreaApi.as_view(), name="api-imaging-rows"),
    path("projects/<str:project_id>/export.geojson", apis.GeoJsonExportApi.as_view(), name="api-export-geojson"),
]
