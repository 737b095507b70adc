"""Imagery REST API: DICOM import, imaging settings, a row's imaging details. Thin: parse → access → service."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.access import request_user, require_org_perm
from apps.accounts.models import Organization, User
from apps.accounts.roles import MANAGE_ORGANIZATION
from apps.core.errors import NotFound, PayloadTooLarge, ValidationFailed
from apps.core.serializers import StrictSerializer
from apps.datasets.access import access_data_row, access_dataset
from apps.datasets.http_content import safe_headers, stored_file_response
from apps.datasets.services import UploadedFile
from apps.exports.access import access_project_export
from apps.imagery import geo_exports, selectors
from apps.imagery.domain.deepzoom import TILE_NAME
from apps.imagery.serialization import asset_json
from apps.imagery.services.dicom import dicom_import
from apps.imagery.services.dicom_view import parse_window, slice_png
from apps.imagery.services.settings import imaging_settings_get, imaging_settings_update
from apps.imagery.services.tile_service import tile_service_create, xyz_tile
from apps.imagery.services.tiles import large_images_upload


def _organization(actor: User, message: str) -> Organization:
    organization = require_org_perm(actor, MANAGE_ORGANIZATION, message)
    if organization is None:
        raise ValidationFailed("Imaging settings belong to an organization; you belong to none.")
    return organization


def _files_upload(request: Request, dataset_id: str) -> tuple[Any, Any, list[Any]]:
    """The actor, the dataset they manage and the multipart `files` of an upload (no other field allowed)."""
    actor = request_user(request)
    dataset = access_dataset(actor, dataset_id, manage=True)
    try:
        files = request.FILES.getlist("files")
        unknown = set(request.data.keys()) - {"files"}
    except (SuspiciousOperation, RequestDataTooBig) as exc:
        raise PayloadTooLarge("Too many files or fields.") from exc
    if unknown:
        raise ValidationFailed("Unknown fields.", details={k: ["Unknown field."] for k in sorted(unknown)})
    return actor, dataset, files


class DicomImportApi(APIView):
    """De-identify and import DICOM files (single, multi-frame or a series) as image rows, one per slice."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": {"type": "object", "properties": {"files": {"type": "array"}}}},
        responses={201: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, dataset_id: str) -> Response:
        actor, dataset, files = _files_upload(request, dataset_id)
        result = dicom_import(
            actor=actor,
            dataset=dataset,
            files=[UploadedFile(name="", file=f, size=f.size or 0) for f in files],  # names may identify patients
        )
        return Response(result, status=status.HTTP_201_CREATED)


class ImagingSettingsApi(APIView):
    class InputSerializer(StrictSerializer):
        keep_identity_mapping = serializers.BooleanField(required=False)
        dicom_metadata_tags = serializers.DictField(child=serializers.CharField(), required=False)

    @staticmethod
    def _json(settings_obj) -> dict:  # type: ignore[no-untyped-def]
        return {
            "keep_identity_mapping": settings_obj.keep_identity_mapping,
            "dicom_metadata_tags": settings_obj.dicom_metadata_tags,
        }

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        actor = request_user(request)
        organization = _organization(actor, "Only organization admins see imaging settings.")
        return Response(self._json(imaging_settings_get(organization)))

    @extend_schema(request=InputSerializer, responses=OpenApiTypes.OBJECT)
    def patch(self, request: Request) -> Response:
        actor = request_user(request)
        organization = _organization(actor, "Only organization admins change imaging settings.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        updated = imaging_settings_update(actor=actor, organization=organization, **data.validated_data)
        return Response(self._json(updated))


class DataRowImagingApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, data_row_id: str) -> Response:
        actor = request_user(request)
        row = access_data_row(actor, data_row_id)
        asset = selectors.asset_for_row(row.organization_id, row.pk)
        if asset is None:  # an ordinary image or text row
            return Response({"kind": None, "width": row.width, "height": row.height})
        return Response(asset_json(asset))


class DicomSliceApi(APIView):
    """Slice `n` (1-based) of the series of a DICOM row, rendered as PNG through a window (`center`, `width` in
    modality units; default: the slice's first preset). For the editor's slice navigation and free windowing."""

    @extend_schema(
        parameters=[OpenApiParameter("center", float), OpenApiParameter("width", float)],
        responses={(200, "image/png"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, data_row_id: str, position: str) -> HttpResponse:
        actor = request_user(request)
        row = access_data_row(actor, data_row_id)
        unknown = set(request.query_params) - {"center", "width"}
        if unknown:
            raise ValidationFailed("Unknown parameters.", details={k: ["Unknown."] for k in sorted(unknown)})
        if not position.isdigit() or len(position) > 6:
            raise NotFound("Slices are numbered from 1.", code="no_slice")
        window = parse_window(request.query_params.get("center"), request.query_params.get("width"))
        response = HttpResponse(slice_png(row, int(position), window), content_type="image/png")
        safe_headers(response)
        response["Cache-Control"] = "private, max-age=3600"
        return response


class LargeImageUploadApi(APIView):
    """Upload images; those at or over the tiling threshold get a Deep Zoom pyramid built by a background job."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": {"type": "object", "properties": {"files": {"type": "array"}}}},
        responses={201: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, dataset_id: str) -> Response:
        actor, dataset, files = _files_upload(request, dataset_id)
        result = large_images_upload(
            actor=actor,
            dataset=dataset,
            files=[UploadedFile(name=f.name or "image", file=f, size=f.size or 0) for f in files],
        )
        return Response(result, status=status.HTTP_201_CREATED)


class TileServiceCreateApi(APIView):
    """Create (or update, by global key) a row that is a tile service: XYZ/TMS URL template, WGS 84 bounds and zoom
    range. The service is contacted through the SSRF guard to build the row's thumbnail."""

    class InputSerializer(StrictSerializer):
        global_key = serializers.CharField(max_length=1000)
        external_id = serializers.CharField(max_length=1000, required=False, allow_blank=True)
        url_template = serializers.CharField(max_length=2000)
        bounds = serializers.ListField(child=serializers.FloatField(), min_length=4, max_length=4)
        min_zoom = serializers.IntegerField(min_value=0, max_value=24)
        max_zoom = serializers.IntegerField(min_value=0, max_value=24)
        tms = serializers.BooleanField(required=False, default=False)
        tile_size = serializers.ChoiceField(choices=[256, 512], required=False, default=256)

    @extend_schema(request=InputSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, dataset_id: str) -> Response:
        actor = request_user(request)
        dataset = access_dataset(actor, dataset_id, manage=True)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = tile_service_create(actor=actor, dataset=dataset, data=dict(data.validated_data))
        return Response(result, status=status.HTTP_201_CREATED)


class XyzTileApi(APIView):
    """One tile of a tile-service row (XYZ numbering), fetched from the service through the SSRF guard; only tiles
    inside the row's bounds and zoom range."""

    @extend_schema(responses={(200, "image/*"): OpenApiTypes.BINARY})
    def get(self, request: Request, data_row_id: str, z: str, x: str, y: str) -> HttpResponse:
        actor = request_user(request)
        row = access_data_row(actor, data_row_id)
        if not all(v.isdigit() and len(v) <= 10 for v in (z, x, y)):
            raise NotFound("Tiles are /xyz/<z>/<x>/<y> with whole numbers.", code="no_tile")
        asset = selectors.asset_for_row(row.organization_id, row.pk)
        if asset is None:
            raise NotFound("This row is not a tile service.", code="not_tile_service")
        body, content_type = xyz_tile(asset, int(z), int(x), int(y))
        response = HttpResponse(body, content_type=content_type)
        safe_headers(response)
        response["Cache-Control"] = "private, max-age=3600"
        return response


class TileApi(APIView):
    """One JPEG tile of a row's pyramid (`<level>/<col>_<row>.jpeg`, Deep Zoom layout)."""

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def get(self, request: Request, data_row_id: str, level: str, tile: str) -> StreamingHttpResponse:
        actor = request_user(request)
        match = TILE_NAME.fullmatch(f"{level}/{tile}")
        if match is None:
            raise NotFound("Tiles are named <level>/<column>_<row>.jpeg.", code="no_tile")
        lv, col, row = (int(g) for g in match.groups())
        name = selectors.tile_name(actor, data_row_id, lv, col, row)
        try:
            response = stored_file_response(name, "image")
        except FileNotFoundError:
            raise NotFound("This tile is missing from storage.", code="tile_missing") from None
        response["Cache-Control"] = "private, max-age=3600"
        return response


class ImagingAreaApi(APIView):
    """Georeferenced rows of the organization whose footprint intersects `bbox` (WGS 84)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("bbox", str, required=True, description="min_lon,min_lat,max_lon,max_lat"),
            OpenApiParameter("dataset", OpenApiTypes.UUID),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        actor = request_user(request)
        unknown = set(request.query_params) - {"bbox", "dataset"}
        if unknown:
            raise ValidationFailed("Unknown parameters.", details={k: ["Unknown."] for k in sorted(unknown)})
        area = geo_exports.parse_bbox(request.query_params.get("bbox"))
        dataset_id = request.query_params.get("dataset")
        dataset = access_dataset(actor, dataset_id) if dataset_id else None
        if actor.organization_id is None and dataset is None:
            raise ValidationFailed("Pass a dataset: you belong to no organization.", details={"dataset": ["Required."]})
        organization_id = dataset.organization_id if dataset else actor.organization_id
        rows = geo_exports.rows_in_area(
            organization_id=organization_id, area=area, dataset_id=dataset.pk if dataset else None
        )
        truncated = len(rows) > geo_exports.MAX_AREA_ROWS
        return Response({"results": rows[: geo_exports.MAX_AREA_ROWS], "truncated": truncated})


class GeoJsonExportApi(APIView):
    """The project's labels on georeferenced rows as a GeoJSON FeatureCollection (WGS 84), streamed."""

    @extend_schema(responses={(200, "application/geo+json"): OpenApiTypes.OBJECT})
    def get(self, request: Request, project_id: str) -> StreamingHttpResponse:
        actor = request_user(request)
        project = access_project_export(actor, project_id)
        response = StreamingHttpResponse(
            geo_exports.geojson_export(actor=actor, project=project), content_type="application/geo+json"
        )
        response["Content-Disposition"] = f'attachment; filename="project-{project.pk}.geojson"'
        response["X-Content-Type-Options"] = "nosniff"
        return response
