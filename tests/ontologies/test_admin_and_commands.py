"""Admin pages (superuser and org admin, tenancy), the demo loader and the benchmark command."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from apps.ontologies import services
from apps.ontologies.models import Ontology
from tests.ontologies.helpers import vehicles_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def ours(org, org_admin):
    payload = vehicles_payload(name="<b>ours</b>")
    payload["tools"][0]["name"] = "<script>alert(1)</script>"
    return services.ontology_create(organization=org, actor=org_admin, **payload)


@pytest.fixture
def theirs(other_org):
    return services.ontology_create(organization=other_org, actor=None, **vehicles_payload(name="theirs"))


def inline_management(ontology) -> dict[str, str]:
    """The version inline's formset fields a browser posts with the change form."""
    data = {
        "versions-TOTAL_FORMS": str(ontology.versions.count()),
        "versions-INITIAL_FORMS": str(ontology.versions.count()),
        "versions-MIN_NUM_FORMS": "0",
        "versions-MAX_NUM_FORMS": "1000",
    }
    for i, version in enumerate(ontology.versions.order_by("-number")):
        data[f"versions-{i}-id"] = str(version.pk)
        data[f"versions-{i}-ontology"] = str(ontology.pk)
    return data


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("who", ["superuser", "org_admin"])
def test_changelist_add_and_change_pages_render_escaped(request, who, ours):
    client = browser(request.getfixturevalue(who))
    changelist = client.get("/admin/ontologies/ontology/")
    assert changelist.status_code == 200
    assert b"&lt;b&gt;ours&lt;/b&gt;" in changelist.content
    assert b"<b>ours</b>" not in changelist.content
    assert client.get("/admin/ontologies/ontology/add/").status_code == 200
    change = client.get(f"/admin/ontologies/ontology/{ours.pk}/change/")
    assert change.status_code == 200
    assert b"<script>alert(1)</script>" not in change.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in change.content
    assert b"first version" in change.content  # version history inline
    assert client.get("/admin/ontologies/feature/").status_code == 200


def test_org_admin_cannot_see_another_organizations_ontology(org_admin, ours, theirs):
    client = browser(org_admin)
    changelist = client.get("/admin/ontologies/ontology/")
    assert b"theirs" not in changelist.content
    response = client.get(f"/admin/ontologies/ontology/{theirs.pk}/change/")
    assert response.status_code in (302, 404)


def test_admin_edit_creates_a_version_and_shows_the_diff(org_admin, ours):
    client = browser(org_admin)
    version = ours.versions.get(number=1)
    tree = version.tree
    tree["tools"][0]["name"] = "car"
    response = client.post(
        f"/admin/ontologies/ontology/{ours.pk}/change/",
        {
            "name": ours.name,
            "description": "",
            "tree": json.dumps(tree),
            "versions-TOTAL_FORMS": "1",
            "versions-INITIAL_FORMS": "1",
            "versions-MIN_NUM_FORMS": "0",
            "versions-MAX_NUM_FORMS": "1000",
            "versions-0-id": str(version.pk),
            "versions-0-ontology": str(ours.pk),
        },
    )
    assert response.status_code == 302, response.content[:2000]
    ours.refresh_from_db()
    assert ours.current_version == 2
    page = client.get(f"/admin/ontologies/ontology/{ours.pk}/change/")
    assert b"renamed" in page.content and b"car" in page.content


def test_admin_rejects_an_invalid_tree_with_a_message(org_admin, ours):
    client = browser(org_admin)
    response = client.post(
        f"/admin/ontologies/ontology/{ours.pk}/change/",
        {"name": "x", "description": "", "tree": json.dumps({"tools": [{"name": "a", "tool": "cube"}]})},
    )
    assert response.status_code == 200
    assert b"tools[0].tool" in response.content
    ours.refresh_from_db()
    assert ours.current_version == 1


def test_admin_add_and_actions(org_admin, org, ours):
    client = browser(org_admin)
    response = client.post(
        "/admin/ontologies/ontology/add/",
        {"name": "new one", "description": "", "tree": json.dumps({"tools": [{"name": "a", "tool": "bbox"}]})},
    )
    assert response.status_code == 302, response.content[:2000]
    created = Ontology.objects.get(name="new one")
    assert created.organization == org and created.current_version == 1
    client.post(
        "/admin/ontologies/ontology/",
        {"action": "clone_selected", "_selected_action": [str(ours.pk)]},
    )
    assert Ontology.objects.filter(cloned_from=ours).count() == 1
    client.post("/admin/ontologies/ontology/", {"action": "archive_selected", "_selected_action": [str(ours.pk)]})
    ours.refresh_from_db()
    assert ours.archived


def test_labelers_have_no_admin(users_by_role, ours):
    client = browser(users_by_role["labeler"])
    assert client.get("/admin/ontologies/ontology/").status_code == 302


def test_demo_loader_is_idempotent(org):
    from apps.ontologies.demo import STREET, load

    load(org)
    load(org)
    ontology = Ontology.objects.get(organization=org, name=STREET["name"])
    tree = ontology.versions.get(number=ontology.current_version).tree
    tools = {t["name"]: t["tool"] for t in tree["tools"]}
    assert tools["car"] == "bbox" and tools["lane"] == "polyline" and tools["crosswalk"] == "polygon"


def test_benchmark_command_runs_at_a_small_size():
    out = StringIO()
    call_command("benchmark", "ontology-validate", "--size", "200", "--option", "repeat=1", stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["benchmark"] == "ontology-validate"
    assert result["annotations"] == 200
    assert result["valid"] == 200 and result["errors"] == 0
    assert result["seconds"] > 0


def test_admin_refuses_removing_a_used_feature_with_a_message(org_admin, ours):
    from apps.ontologies.registry import register_feature_usage_counter, unregister_feature_usage_counter

    tree = ours.versions.get(number=1).tree
    wheel = next(t["schema_id"] for t in tree["tools"] if t["name"] == "wheel")

    def counter(*, ontology, schema_ids):
        return {wheel: 3} if wheel in schema_ids else {}

    tree["tools"] = [t for t in tree["tools"] if t["name"] != "wheel"]
    register_feature_usage_counter(counter)
    try:
        response = browser(org_admin).post(
            f"/admin/ontologies/ontology/{ours.pk}/change/",
            {"name": "ours", "description": "", "tree": json.dumps(tree), **inline_management(ours)},
            follow=True,
        )
    finally:
        unregister_feature_usage_counter(counter)
    assert response.status_code == 200
    assert b"3 label(s)" in response.content
    ours.refresh_from_db()
    assert ours.current_version == 1 and ours.name == "<b>ours</b>"


def test_projects_using_come_from_the_registered_lister(superuser, ours):
    from apps.ontologies.registry import register_version_user_lister, unregister_version_user_lister

    v1 = str(ours.versions.get(number=1).pk)

    def lister(*, version_ids):
        return {v1: ["<i>Project A</i>"]} if v1 in version_ids else {}

    client = browser(superuser)
    assert b"none" in client.get("/admin/ontologies/ontology/").content
    register_version_user_lister(lister)
    try:
        changelist = client.get("/admin/ontologies/ontology/")
        change = client.get(f"/admin/ontologies/ontology/{ours.pk}/change/")
    finally:
        unregister_version_user_lister(lister)
    for page in (changelist, change):
        assert b"&lt;i&gt;Project A&lt;/i&gt;" in page.content
        assert b"<i>Project A</i>" not in page.content
