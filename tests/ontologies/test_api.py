"""Ontologies API: create/get/list, versions and schema_id rules, 409 on removing used features, diff, clone,
features from existing schema_ids, feature annotations, tenancy and roles."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apps.accounts.roles import OrgRole
from apps.ontologies.domain import walk
from apps.ontologies.models import Feature, Ontology, OntologyVersion
from apps.ontologies.registry import (
    FeatureAnnotations,
    register_feature_annotation_source,
    register_feature_usage_counter,
    unregister_feature_annotation_source,
    unregister_feature_usage_counter,
)
from tests.ontologies.helpers import schema_id_of, vehicles_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(org_admin, client_for):
    return client_for(org_admin)


@pytest.fixture
def vehicles(admin_client) -> dict[str, Any]:
    response = admin_client.post("/api/v1/ontologies", vehicles_payload(), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def put_body(body: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(body[k]) for k in ("name", "description", "tools", "classifications")}


def test_create_returns_the_tree_with_id_version_and_a_schema_id_on_every_node(vehicles):
    assert vehicles["version"] == 1
    assert vehicles["id"]
    nodes = list(walk(vehicles))
    assert len(nodes) == 5 + 1 + 2 + 1 + 2 + 3 + 4  # tools, kind, its options, lights_on, its options, globals, options
    assert all(n.schema_id for n in nodes)
    assert len({n.schema_id for n in nodes}) == len(nodes)
    assert vehicles["tools"][0]["classifications"][0]["options"][1]["classifications"][0]["name"] == "lights_on"
    assert Feature.objects.filter(schema_id__in=[n.schema_id for n in nodes]).count() == len(nodes)


def test_get_list_and_detail(admin_client, vehicles):
    detail = admin_client.get(f"/api/v1/ontologies/{vehicles['id']}")
    assert detail.status_code == 200
    assert detail.json() == vehicles
    listing = admin_client.get("/api/v1/ontologies")
    assert listing.status_code == 200
    assert [o["id"] for o in listing.json()["results"]] == [vehicles["id"]]
    assert listing.json()["results"][0]["tools"] == vehicles["tools"]


def test_list_query_count_does_not_grow_with_ontologies(admin_client, vehicles, django_assert_max_num_queries):
    for i in range(5):
        admin_client.post("/api/v1/ontologies", vehicles_payload(name=f"o{i}"), format="json")
    # Token auth and the throttle cache take ~8 queries; one ontology more must not add one.
    with django_assert_max_num_queries(12):
        response = admin_client.get("/api/v1/ontologies")
    assert len(response.json()["results"]) == 6


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"name": "x", "tools": [{"name": "a", "tool": "cuboid"}]}, "tools[0].tool"),
        ({"name": "x", "tools": [{"name": "", "tool": "bbox"}]}, "tools[0].name"),
        ({"name": "x", "tools": [{"name": "a", "tool": "bbox", "color": "red"}]}, "tools[0].color"),
        (
            {"name": "x", "classifications": [{"name": "c", "type": "radio", "options": []}]},
            "classifications[0].options",
        ),
        ({"name": "x", "classifications": [{"name": "c", "type": "vote"}]}, "classifications[0].type"),
        (
            {"name": "x", "tools": [{"name": "a", "tool": "bbox"}], "classifications": [{"name": "a", "type": "text"}]},
            "classifications[0].name",
        ),
        (
            {
                "name": "x",
                "classifications": [{"name": "c", "type": "radio", "options": [{"value": "v"}, {"value": "v"}]}],
            },
            "classifications[0].options[1].value",
        ),
        ({"name": "x", "tools": [{"name": "a", "tool": "bbox", "shape": 1}]}, "tools[0].shape"),
        ({"name": "x", "tools": [{"name": "a\u0000", "tool": "bbox"}]}, "tools[0].name"),
        ({"name": "x", "tools": [{"name": "a", "tool": "bbox", "instructions": "\u0000"}]}, "tools[0].instructions"),
        ({"name": "x", "tools": [{"name": "a", "tool": "bbox", "schema_id": "nope"}]}, "tools[0].schema_id"),
        (
            {
                "name": "x",
                "tools": [{"name": "a", "tool": "bbox", "schema_id": "00000000-0000-4000-8000-000000000000"}],
            },
            "tools[0].schema_id",
        ),
    ],
)
def test_invalid_trees_are_400_with_the_path(admin_client, payload, path):
    response = admin_client.post("/api/v1/ontologies", payload, format="json")
    assert response.status_code == 400, response.json()
    assert path in response.json()["error"]["details"]
    assert not Ontology.objects.exists()


def test_an_empty_ontology_and_unknown_fields_are_refused(admin_client):
    assert admin_client.post("/api/v1/ontologies", {"name": "x"}, format="json").status_code == 400
    response = admin_client.post("/api/v1/ontologies", {**vehicles_payload(), "colour": 1}, format="json")
    assert response.status_code == 400
    assert "colour" in response.json()["error"]["details"]


def test_put_keeps_schema_ids_by_id_and_by_name_and_place_and_creates_a_version(admin_client, vehicles):
    body = put_body(vehicles)
    vehicle_id = body["tools"][0]["schema_id"]
    kind_id = body["tools"][0]["classifications"][0]["schema_id"]
    police_id = schema_id_of(vehicles, "vehicle / kind / police")
    # Rename vehicle (schema_id sent), drop the schema_id of "kind" (matched by name and place), add an option.
    body["tools"][0]["name"] = "car"
    body["tools"][0]["color"] = "#00ff00"
    del body["tools"][0]["classifications"][0]["schema_id"]
    body["tools"][0]["classifications"][0]["options"].append({"value": "fire truck"})
    # A node with the same name in another place gets a new schema_id.
    body["classifications"].append({"name": "kind", "type": "text"})
    response = admin_client.put(f"/api/v1/ontologies/{vehicles['id']}", body, format="json")
    assert response.status_code == 200, response.json()
    updated = response.json()
    assert updated["version"] == 2
    assert updated["tools"][0]["schema_id"] == vehicle_id
    assert updated["tools"][0]["name"] == "car"
    assert updated["tools"][0]["classifications"][0]["schema_id"] == kind_id
    assert schema_id_of(updated, "car / kind / police") == police_id
    new_option = schema_id_of(updated, "car / kind / fire truck")
    assert new_option not in {n.schema_id for n in walk(vehicles)}
    assert updated["classifications"][-1]["schema_id"] != kind_id
    assert Feature.objects.get(schema_id=vehicle_id).name == "car"
    # Version 1 is unchanged and still readable.
    v1 = admin_client.get(f"/api/v1/ontologies/{vehicles['id']}?version=1").json()
    assert v1["tools"] == vehicles["tools"] and v1["version"] == 1
    versions = admin_client.get(f"/api/v1/ontologies/{vehicles['id']}/versions").json()["results"]
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["created_by"]["username"]


def test_put_of_an_identical_tree_creates_no_version(admin_client, vehicles):
    response = admin_client.put(f"/api/v1/ontologies/{vehicles['id']}", vehicles, format="json")  # echo of a GET
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 1
    assert OntologyVersion.objects.filter(ontology_id=vehicles["id"]).count() == 1


def test_put_with_a_stale_version_is_409(admin_client, vehicles):
    body = put_body(vehicles)
    body["tools"].append({"name": "sign", "tool": "point"})
    assert (
        admin_client.put(f"/api/v1/ontologies/{vehicles['id']}", {**body, "version": 1}, format="json").status_code
        == 200
    )
    body["tools"].append({"name": "light", "tool": "point"})
    response = admin_client.put(f"/api/v1/ontologies/{vehicles['id']}", {**body, "version": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "stale_version"


def test_a_schema_id_cannot_change_kind(admin_client, vehicles):
    body = put_body(vehicles)
    body["tools"][1]["tool"] = "bbox"  # roof: polygon -> bbox, keeping its schema_id
    response = admin_client.put(f"/api/v1/ontologies/{vehicles['id']}", body, format="json")
    assert response.status_code == 400
    assert "tools[1].schema_id" in response.json()["error"]["details"]


@pytest.fixture
def labels_use_ambulance(vehicles):
    ambulance = schema_id_of(vehicles, "vehicle / kind / ambulance")

    def counter(*, ontology, schema_ids):
        return {ambulance: 7} if ambulance in schema_ids else {}

    register_feature_usage_counter(counter)
    yield ambulance
    unregister_feature_usage_counter(counter)


def test_removing_a_used_feature_is_409_with_the_label_count_and_archiving_works(
    admin_client, vehicles, labels_use_ambulance
):
    body = put_body(vehicles)
    options = body["tools"][0]["classifications"][0]["options"]
    body["tools"][0]["classifications"][0]["options"] = [o for o in options if o["value"] != "ambulance"]
    response = admin_client.put(f"/api/v1/ontologies/{vehicles['id']}", body, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "feature_in_use"
    assert "7 label(s)" in error["message"]
    assert error["details"]["labels"] == 7
    assert error["details"]["features"][0]["schema_id"] == labels_use_ambulance
    assert OntologyVersion.objects.filter(ontology_id=vehicles["id"]).count() == 1
    # Removing the whole tool removes the option too: also refused.
    body = put_body(vehicles)
    body["tools"] = body["tools"][1:]
    assert admin_client.put(f"/api/v1/ontologies/{vehicles['id']}", body, format="json").status_code == 409
    # Archiving is the way.
    body = put_body(vehicles)
    body["tools"][0]["classifications"][0]["options"][1]["archived"] = True
    response = admin_client.put(f"/api/v1/ontologies/{vehicles['id']}", body, format="json")
    assert response.status_code == 200
    assert response.json()["tools"][0]["classifications"][0]["options"][1]["archived"] is True
    # Removing an unused feature is fine.
    body = put_body(response.json())
    body["tools"] = [t for t in body["tools"] if t["name"] != "wheel"]
    response = admin_client.put(f"/api/v1/ontologies/{vehicles['id']}", body, format="json")
    assert response.status_code == 200
    assert response.json()["version"] == 3


def test_diff_lists_changes_by_schema_id(admin_client, vehicles):
    body = put_body(vehicles)
    body["tools"][0]["name"] = "car"
    body["tools"][0]["color"] = "#123456"
    body["tools"][1]["archived"] = True
    body["tools"] = [t for t in body["tools"] if t["name"] != "wheel"]
    body["tools"].append({"name": "sign", "tool": "point"})
    lights = body["tools"][0]["classifications"][0]["options"][1].pop("classifications")
    body["tools"][0]["classifications"][0]["options"][0]["classifications"] = lights  # move under police
    body["classifications"].reverse()
    assert admin_client.put(f"/api/v1/ontologies/{vehicles['id']}", body, format="json").status_code == 200
    diff = admin_client.get(f"/api/v1/ontologies/{vehicles['id']}/diff?from=1&to=2").json()
    assert diff["from"] == 1 and diff["to"] == 2
    vehicle = vehicles["tools"][0]["schema_id"]
    assert [(r["schema_id"], r["from"], r["to"]) for r in diff["renamed"]] == [(vehicle, "vehicle", "car")]
    assert [r["schema_id"] for r in diff["recolored"]] == [vehicle]
    assert [r["name"] for r in diff["archived"]] == ["roof"]
    assert [r["name"] for r in diff["removed"]] == ["wheel"]
    assert [r["name"] for r in diff["added"]] == ["sign"]
    assert [r["name"] for r in diff["moved"]] == ["lights_on"]
    assert {r["name"] for r in diff["reordered"]} >= {"weather", "caption"}
    # Default: previous → current.
    assert admin_client.get(f"/api/v1/ontologies/{vehicles['id']}/diff").json()["renamed"] == diff["renamed"]
    assert admin_client.get(f"/api/v1/ontologies/{vehicles['id']}/diff?from=1&to=9").status_code == 404
    assert admin_client.get(f"/api/v1/ontologies/{vehicles['id']}/diff?from=x").status_code == 400


def test_clone_shares_schema_ids_and_evolves_independently(admin_client, vehicles):
    response = admin_client.post(f"/api/v1/ontologies/{vehicles['id']}/clone", {"name": "vehicles EU"}, format="json")
    assert response.status_code == 201
    clone = response.json()
    assert clone["id"] != vehicles["id"]
    assert clone["name"] == "vehicles EU" and clone["version"] == 1 and clone["cloned_from"] == vehicles["id"]
    assert clone["tools"] == vehicles["tools"] and clone["classifications"] == vehicles["classifications"]
    # The shared feature knows both ontologies.
    feature = admin_client.get(f"/api/v1/features/{vehicles['tools'][0]['schema_id']}").json()
    assert feature["kind"] == "tool" and feature["subtype"] == "bbox" and feature["name"] == "vehicle"
    assert [(o["id"], o["versions"], o["current"]) for o in feature["ontologies"]] == [
        (vehicles["id"], [1], True),
        (clone["id"], [1], True),
    ]
    # Grow the clone: police motorbikes. The original is untouched.
    body = put_body(clone)
    body["tools"][0]["classifications"][0]["options"].append({"value": "police motorbike"})
    assert admin_client.put(f"/api/v1/ontologies/{clone['id']}", body, format="json").status_code == 200
    assert admin_client.get(f"/api/v1/ontologies/{vehicles['id']}").json() == vehicles


def test_create_from_existing_features(admin_client, vehicles):
    vehicle = vehicles["tools"][0]
    weather = vehicles["classifications"][0]
    payload = {"name": "just vehicles", "tools": [vehicle], "classifications": [weather]}
    response = admin_client.post("/api/v1/ontologies", payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["tools"] == [vehicle]
    assert response.json()["classifications"] == [weather]
    # A schema_id used twice in one tree is refused.
    twice = {"name": "bad", "tools": [vehicle, {**vehicle, "name": "other"}]}
    assert admin_client.post("/api/v1/ontologies", twice, format="json").status_code == 400


def test_archive_and_unarchive(admin_client, vehicles):
    response = admin_client.post(f"/api/v1/ontologies/{vehicles['id']}/archive")
    assert response.status_code == 200 and response.json()["archived"] is True
    assert admin_client.get("/api/v1/ontologies?archived=false").json()["results"] == []
    assert len(admin_client.get("/api/v1/ontologies?archived=true").json()["results"]) == 1
    assert admin_client.post(f"/api/v1/ontologies/{vehicles['id']}/unarchive").json()["archived"] is False


def test_feature_annotations_endpoint_is_an_empty_page_until_labels_exist(admin_client, vehicles):
    schema_id = vehicles["tools"][0]["schema_id"]
    response = admin_client.get(f"/api/v1/features/{schema_id}/annotations")
    assert response.status_code == 200
    assert response.json() == {"next": None, "previous": None, "results": []}
    assert admin_client.get("/api/v1/features/not-a-uuid/annotations").status_code == 404


def test_feature_annotations_come_from_the_registered_source(admin_client, vehicles, org):
    schema_id = vehicles["tools"][0]["schema_id"]

    def source(*, actor, feature):
        # Stand-in for the labeling app: any model with created_at/id paginates; here the feature's versions.
        return FeatureAnnotations(
            queryset=OntologyVersion.objects.filter(features=feature),
            serialize=lambda rows: [{"version": r.number, "feature": str(feature.schema_id)} for r in rows],
        )

    register_feature_annotation_source(source)
    try:
        response = admin_client.get(f"/api/v1/features/{schema_id}/annotations?page_size=10")
    finally:
        unregister_feature_annotation_source(source)
    assert response.status_code == 200
    assert response.json()["results"] == [{"version": 1, "feature": schema_id}]


def test_other_organizations_get_404_everywhere(vehicles, other_org, make_user, client_for):
    outsider = client_for(make_user(role=OrgRole.ADMIN, organization=other_org))
    base = f"/api/v1/ontologies/{vehicles['id']}"
    feature = f"/api/v1/features/{vehicles['tools'][0]['schema_id']}"
    for url in (base, f"{base}/versions", f"{base}/diff", f"{base}/unarchive", feature, f"{feature}/annotations"):
        response = outsider.post(url) if url.endswith("archive") else outsider.get(url)
        assert response.status_code == 404, url
    assert outsider.put(base, put_body(vehicles), format="json").status_code == 404
    assert outsider.post(f"{base}/clone", {"name": "stolen"}, format="json").status_code == 404
    assert outsider.post(f"{base}/archive").status_code == 404
    assert outsider.get("/api/v1/ontologies").json()["results"] == []
    # Nor may they build on our features by schema_id.
    response = outsider.post("/api/v1/ontologies", {"name": "x", "tools": [vehicles["tools"][0]]}, format="json")
    assert response.status_code == 400
    assert outsider.get("/api/v1/ontologies/not-a-uuid").status_code == 404


@pytest.mark.parametrize("role", [OrgRole.LABELER, OrgRole.REVIEWER, OrgRole.EXPERT])
def test_read_only_roles_read_but_may_not_write(role, users_by_role, client_for, vehicles):
    client = client_for(users_by_role[role])
    base = f"/api/v1/ontologies/{vehicles['id']}"
    assert client.get(base).status_code == 200
    assert client.get("/api/v1/ontologies").status_code == 200
    assert client.get(f"{base}/versions").status_code == 200
    assert client.get(f"{base}/diff").status_code == 200
    assert client.post("/api/v1/ontologies", vehicles_payload(), format="json").status_code == 403
    assert client.put(base, put_body(vehicles), format="json").status_code == 403
    assert client.post(f"{base}/clone", {"name": "c"}, format="json").status_code == 403
    assert client.post(f"{base}/archive").status_code == 403
    assert Ontology.objects.count() == 1


def test_team_managers_may_write(users_by_role, client_for):
    client = client_for(users_by_role[OrgRole.TEAM_MANAGER])
    created = client.post("/api/v1/ontologies", vehicles_payload(), format="json")
    assert created.status_code == 201
    assert (
        client.post(f"/api/v1/ontologies/{created.json()['id']}/clone", {"name": "c"}, format="json").status_code == 201
    )


def test_unauthenticated_is_401(api_client, vehicles):
    assert api_client.get("/api/v1/ontologies").status_code == 401
    assert api_client.get(f"/api/v1/ontologies/{vehicles['id']}").status_code == 401


def test_names_are_returned_verbatim_as_json_data(admin_client):
    payload = {"name": "<script>alert(1)</script>", "tools": [{"name": "<b>x</b>", "tool": "bbox"}]}
    response = admin_client.post("/api/v1/ontologies", payload, format="json")
    assert response.status_code == 201
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["tools"][0]["name"] == "<b>x</b>"


def test_writes_are_audited(admin_client, vehicles):
    from apps.core.models import AuditEvent

    body = put_body(vehicles)
    body["tools"][0]["name"] = "car"
    admin_client.put(f"/api/v1/ontologies/{vehicles['id']}", body, format="json")
    admin_client.post(f"/api/v1/ontologies/{vehicles['id']}/clone", {"name": "c"}, format="json")
    admin_client.post(f"/api/v1/ontologies/{vehicles['id']}/archive")
    actions = set(AuditEvent.objects.filter(object_type="ontologies.ontology").values_list("action", flat=True))
    assert actions == {"ontology.created", "ontology.updated", "ontology.cloned", "ontology.archived"}
    updated = AuditEvent.objects.get(action="ontology.updated")
    assert updated.extra["version"] == 2 and updated.extra["diff"] == {"renamed": 1}


def test_versions_list_query_count_is_pinned(admin_client, vehicles, django_assert_max_num_queries):
    body = put_body(vehicles)
    for i in range(5):
        body["tools"].append({"name": f"extra{i}", "tool": "point"})
        assert admin_client.put(f"/api/v1/ontologies/{vehicles['id']}", body, format="json").status_code == 200
    with django_assert_max_num_queries(12):
        response = admin_client.get(f"/api/v1/ontologies/{vehicles['id']}/versions")
    assert [v["version"] for v in response.json()["results"]] == [6, 5, 4, 3, 2, 1]


def test_openapi_schema_documents_the_ontology_endpoints_and_tree_shape(admin_client):
    response = admin_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert {
        "/api/v1/ontologies",
        "/api/v1/ontologies/{ontology_id}/clone",
        "/api/v1/features/{schema_id}/annotations",
    } <= set(schema["paths"])
    assert "tool" in schema["components"]["schemas"]["ToolDoc"]["properties"]
