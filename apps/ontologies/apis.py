"""Ontologies REST API. Thin: parse → access → service/selector → serialize."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.core.errors import ValidationFailed
from apps.core.pagination import CursorPagination
from apps.core.serializers import StrictSerializer
from apps.ontologies import selectors, services
from apps.ontologies.access import access_feature, access_ontology, require_ontology_manager
from apps.ontologies.domain.tree import CLASSIFICATION_TYPES, TOOL_KINDS
from apps.ontologies.models import Ontology, OntologyVersion


# -- documentation of the tree shape (validation itself is `domain.tree.normalize_tree`) ----------------------------
class OptionDocSerializer(serializers.Serializer):
    schema_id = serializers.UUIDField(required=False, help_text="Send it to keep a node's identity.")
    value = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    archived = serializers.BooleanField(required=False, default=False)
    classifications = serializers.ListField(
        child=serializers.JSONField(), required=False, help_text="Nested classifications (same shape, any depth)."
    )


class ClassificationDocSerializer(serializers.Serializer):
    schema_id = serializers.UUIDField(required=False)
    name = serializers.CharField(max_length=200)
    type = serializers.ChoiceField(choices=CLASSIFICATION_TYPES)
    required = serializers.BooleanField(required=False, default=False)  # type: ignore[assignment]
    description = serializers.CharField(required=False, allow_blank=True)
    instructions = serializers.CharField(required=False, allow_blank=True)
    archived = serializers.BooleanField(required=False, default=False)
    options = OptionDocSerializer(many=True, required=False, help_text="radio and checklist only")
    max_length = serializers.IntegerField(required=False, help_text="text only (default 10000)")


class ToolDocSerializer(serializers.Serializer):
    schema_id = serializers.UUIDField(required=False)
    name = serializers.CharField(max_length=200)
    tool = serializers.ChoiceField(choices=TOOL_KINDS)
    color = serializers.CharField(required=False, help_text="#rrggbb; a palette color when omitted")
    description = serializers.CharField(required=False, allow_blank=True)
    instructions = serializers.CharField(required=False, allow_blank=True)
    archived = serializers.BooleanField(required=False, default=False)
    classifications = ClassificationDocSerializer(many=True, required=False)


@extend_schema_field(ToolDocSerializer(many=True))
class ToolsField(serializers.JSONField):
    """The tools of a tree, passed through as JSON and checked by the domain normalizer."""


@extend_schema_field(ClassificationDocSerializer(many=True))
class ClassificationsField(serializers.JSONField):
    """The global classifications of a tree, passed through as JSON and checked by the domain normalizer."""


class OntologyOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    version = serializers.IntegerField()
    archived = serializers.BooleanField()
    cloned_from = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    tools = ToolsField()
    classifications = ClassificationsField()


class VersionOutputSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    created_by = inline_serializer(
        "OntologyVersionAuthor", {"id": serializers.UUIDField(), "username": serializers.CharField()}, allow_null=True
    )
    tools = ToolsField()
    classifications = ClassificationsField()


def ontology_body(ontology: Ontology, tree: dict[str, Any], number: int) -> dict[str, Any]:
    return OntologyOutputSerializer(
        {
            "id": ontology.id,
            "name": ontology.name,
            "description": ontology.description,
            "version": number,
            "archived": ontology.archived,
            "cloned_from": ontology.cloned_from_id,
            "created_at": ontology.created_at,
            "updated_at": ontology.updated_at,
            "tools": tree.get("tools", []),
            "classifications": tree.get("classifications", []),
        }
    ).data


def version_body(version: OntologyVersion) -> dict[str, Any]:
    author = version.created_by
    return VersionOutputSerializer(
        {
            "version": version.number,
            "created_at": version.created_at,
            "created_by": {"id": author.id, "username": author.username} if author else None,
            "tools": version.tree.get("tools", []),
            "classifications": version.tree.get("classifications", []),
        }
    ).data


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValidationFailed(f"`{name}` must be a positive integer.", details={name: ["Must be a positive integer."]})
    return int(raw)


def _bool_param(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise ValidationFailed(f"`{name}` must be true or false.", details={name: ["Must be true or false."]})


class TreeInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)
    tools = ToolsField(required=False, default=list)  # type: ignore[arg-type]
    classifications = ClassificationsField(required=False, default=list)  # type: ignore[arg-type]


class OntologyPagination(CursorPagination):
    pass


class OntologyListCreateApi(APIView):
    pagination_class = OntologyPagination  # the schema documents the GET list as pages

    @extend_schema(
        parameters=[OpenApiParameter("archived", OpenApiTypes.BOOL, description="Only (un)archived ontologies.")],
        responses=OntologyOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        actor: User = request.user  # type: ignore[assignment]
        queryset = selectors.ontologies_visible_to(actor=actor, archived=_bool_param(request, "archived"))
        paginator = OntologyPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        results = [ontology_body(o, getattr(o, "current_tree", None) or {}, o.current_version) for o in page or []]
        return paginator.get_paginated_response(results)

    @extend_schema(request=TreeInputSerializer, responses={201: OntologyOutputSerializer})
    def post(self, request: Request) -> Response:
        actor: User = request.user  # type: ignore[assignment]
        organization = require_ontology_manager(actor)
        data = TreeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ontology = services.ontology_create(organization=organization, actor=actor, **data.validated_data)
        version = selectors.ontology_version_get(ontology=ontology)
        return Response(ontology_body(ontology, version.tree, version.number), status=status.HTTP_201_CREATED)


class OntologyUpdateInputSerializer(TreeInputSerializer):
    # Echoed back from a GET: `version` (if given) must still be current; `archived` (un)archives.
    version = serializers.IntegerField(required=False, min_value=1)
    archived = serializers.BooleanField(required=False)
    id = serializers.UUIDField(required=False)
    cloned_from = serializers.UUIDField(required=False, allow_null=True)
    created_at = serializers.DateTimeField(required=False)
    updated_at = serializers.DateTimeField(required=False)


class OntologyDetailApi(APIView):
    InputSerializer = OntologyUpdateInputSerializer

    @extend_schema(
        parameters=[OpenApiParameter("version", OpenApiTypes.INT, description="A past version (default: current).")],
        responses=OntologyOutputSerializer,
    )
    def get(self, request: Request, ontology_id: str) -> Response:
        ontology = access_ontology(request.user, ontology_id)  # type: ignore[arg-type]
        version = selectors.ontology_version_get(ontology=ontology, number=_int_param(request, "version"))
        return Response(ontology_body(ontology, version.tree, version.number))

    @extend_schema(request=InputSerializer, responses=OntologyOutputSerializer)
    def put(self, request: Request, ontology_id: str) -> Response:
        actor: User = request.user  # type: ignore[assignment]
        ontology = access_ontology(actor, ontology_id, action="change")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if "id" in values and str(values["id"]) != str(ontology.id):
            raise ValidationFailed("The body's id is not this ontology's.", details={"id": ["Does not match the URL."]})
        ontology = services.ontology_update(
            ontology=ontology,
            actor=actor,
            name=values["name"],
            description=values["description"],
            tools=values["tools"],
            classifications=values["classifications"],
            expected_version=values.get("version"),
            archived=values.get("archived"),
        )
        version = selectors.ontology_version_get(ontology=ontology)
        return Response(ontology_body(ontology, version.tree, version.number))


class VersionPagination(CursorPagination):
    ordering = ("-number", "-id")


class OntologyVersionListApi(APIView):
    pagination_class = VersionPagination  # the schema documents the GET list as pages

    @extend_schema(responses=VersionOutputSerializer(many=True))
    def get(self, request: Request, ontology_id: str) -> Response:
        ontology = access_ontology(request.user, ontology_id)  # type: ignore[arg-type]
        paginator = VersionPagination()
        page = paginator.paginate_queryset(selectors.ontology_versions(ontology=ontology), request, view=self)
        return paginator.get_paginated_response([version_body(v) for v in page or []])


class OntologyDiffApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.INT, description="Default: the version before `to`."),
            OpenApiParameter("to", OpenApiTypes.INT, description="Default: the current version."),
        ],
        responses=inline_serializer(
            "OntologyDiff",
            {
                "from": serializers.IntegerField(),
                "to": serializers.IntegerField(),
                **{
                    key: serializers.ListField(child=serializers.JSONField())
                    for key in (
                        "added",
                        "removed",
                        "renamed",
                        "recolored",
                        "archived",
                        "unarchived",
                        "moved",
                        "reordered",
                        "changed",
                    )
                },
            },
        ),
    )
    def get(self, request: Request, ontology_id: str) -> Response:
        ontology = access_ontology(request.user, ontology_id)  # type: ignore[arg-type]
        diff = selectors.ontology_diff(
            ontology=ontology, from_number=_int_param(request, "from"), to_number=_int_param(request, "to")
        )
        return Response(diff)


class OntologyCloneInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)


class OntologyCloneApi(APIView):
    InputSerializer = OntologyCloneInputSerializer

    @extend_schema(request=InputSerializer, responses={201: OntologyOutputSerializer})
    def post(self, request: Request, ontology_id: str) -> Response:
        actor: User = request.user  # type: ignore[assignment]
        ontology = access_ontology(actor, ontology_id, action="change")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        clone = services.ontology_clone(ontology=ontology, name=data.validated_data["name"], actor=actor)
        version = selectors.ontology_version_get(ontology=clone)
        return Response(ontology_body(clone, version.tree, version.number), status=status.HTTP_201_CREATED)


class OntologyArchiveApi(APIView):
    archived = True

    @extend_schema(request=None, responses=OntologyOutputSerializer)
    def post(self, request: Request, ontology_id: str) -> Response:
        actor: User = request.user  # type: ignore[assignment]
        ontology = access_ontology(actor, ontology_id, action="change")
        ontology = services.ontology_set_archived(ontology=ontology, archived=self.archived, actor=actor)
        version = selectors.ontology_version_get(ontology=ontology)
        return Response(ontology_body(ontology, version.tree, version.number))


class OntologyUnarchiveApi(OntologyArchiveApi):
    archived = False


class FeatureOutputSerializer(serializers.Serializer):
    schema_id = serializers.UUIDField()
    kind = serializers.CharField(help_text="tool, classification or option")
    subtype = serializers.CharField(help_text="The tool kind or classification type; empty for options.")
    name = serializers.CharField()
    ontologies = inline_serializer(
        "FeatureOntology",
        {
            "id": serializers.UUIDField(),
            "name": serializers.CharField(),
            "versions": serializers.ListField(child=serializers.IntegerField()),
            "current": serializers.BooleanField(help_text="In the ontology's current version."),
        },
        many=True,
    )


class FeatureDetailApi(APIView):
    @extend_schema(responses=FeatureOutputSerializer)
    def get(self, request: Request, schema_id: str) -> Response:
        feature = access_feature(request.user, schema_id)  # type: ignore[arg-type]
        body = {
            "schema_id": feature.schema_id,
            "kind": feature.kind,
            "subtype": feature.subtype,
            "name": feature.name,
            "ontologies": selectors.feature_usage_in_ontologies(feature=feature),
        }
        return Response(FeatureOutputSerializer(body).data)


class FeatureAnnotationListApi(APIView):
    pagination_class = CursorPagination  # the schema documents the GET list as pages

    @extend_schema(responses=inline_serializer("FeatureAnnotationPage", {"results": serializers.JSONField()}))
    def get(self, request: Request, schema_id: str) -> Response:
        actor: User = request.user  # type: ignore[assignment]
        feature = access_feature(actor, schema_id)
        source = selectors.feature_annotations(actor=actor, feature=feature)
        paginator = CursorPagination()
        if source is None:
            paginator.get_page_size(request)  # still reject a bad page_size
            return Response({"next": None, "previous": None, "results": []})
        page = paginator.paginate_queryset(source.queryset, request, view=self)
        return paginator.get_paginated_response(source.serialize(list(page or [])))
