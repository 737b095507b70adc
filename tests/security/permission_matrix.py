"""The permission matrix as data: every URL pattern of the project (the admin excepted) × every kind of caller →
the status code they get.

Columns, in `ACTORS` order: anonymous, org admin, org team manager, reviewer, labeler, expert (each also a project
member with that project role), project manager (an org labeler who is the project's team manager), an org member
outside the project, and the admin of another organization.

Reading the codes: 401 anonymous on the API, 302 anonymous on a page (to the login page) or a page action that
redirects when done; 403 a member lacking the permission; 404 another organization's object or a project the
caller is not a member of (same answer as a missing id); 400/409/415 the caller passed the permission check and the
(empty) body or the object's state was refused — the gate is what this matrix checks.

Adding an endpoint: add a row here (`tests/security/test_permission_matrix.py` fails for any URL pattern without
one). Path parameters are filled from `tests/security/world.py` (`PATH_OBJECTS` in `matrix.py`; `objects=` picks
another object of the world); `body=` a function of the world gives a request body.
"""

# ruff: noqa: E501
from __future__ import annotations

from typing import Any

from tests.security.matrix import ACTORS, Row
from tests.security.world import World, unique


def _row(method: str, route: str, codes: tuple[int, ...], page: bool, **kwargs: Any) -> Row:
    assert len(codes) == len(ACTORS), f"{method} {route}: one status per actor ({', '.join(ACTORS)})"
    return Row(method, route, dict(zip(ACTORS, codes, strict=True)), page=page, **kwargs)


def api(method: str, route: str, *codes: int, **kwargs: Any) -> Row:
    return _row(method, route, codes, page=False, **kwargs)


def page(method: str, route: str, *codes: int, **kwargs: Any) -> Row:
    return _row(method, route, codes, page=True, **kwargs)


def new_user(world: World) -> dict[str, str]:
    return {"username": unique("matrix"), "password": "Matrix-pass-123", "role": "labeler"}


def send_slice_to_project(world: World) -> dict[str, str]:
    return {"target": "labeling.batch", "option": world.ids["project"], "name": "from a slice"}


def new_alert_rule(world: World) -> dict[str, Any]:
    return {"kind": "denied_requests", "threshold": 5, "window_minutes": 5}


def alert_rule_change(world: World) -> dict[str, Any]:
    return {"threshold": 7}


def new_token(world: World) -> dict[str, str]:
    return {"name": unique("token")}


# fmt: off
MATRIX: list[Row] = [
    # method      route                                                              anon adm  tm   rev  lab  exp  pm   non  other
    page("get",   "favicon.ico",                                                     302, 302, 302, 302, 302, 302, 302, 302, 302),
    api("get",    "healthz",                                                         200, 200, 200, 200, 200, 200, 200, 200, 200),
    api("get",    "healthz/live",                                                    200, 200, 200, 200, 200, 200, 200, 200, 200),
    api("get",    "healthz/ready",                                                   200, 200, 200, 200, 200, 200, 200, 200, 200),
    api("post",   "api/v1/auth/token",                                               400, 400, 400, 400, 400, 400, 400, 400, 400),
    api("post",   "api/v1/organizations",                                            401, 403, 403, 403, 403, 403, 403, 403, 403),
    api("get",    "api/v1/me",                                                       401, 200, 200, 200, 200, 200, 200, 200, 200),
    api("get",    "api/v1/users",                                                    401, 200, 200, 403, 403, 403, 403, 403, 200),
    api("post",   "api/v1/users",                                                    401, 201, 403, 403, 403, 403, 403, 403, 201, body=new_user),
    api("get",    "api/v1/users/<user_id>",                                          401, 200, 200, 403, 200, 403, 403, 403, 404),
    api("patch",  "api/v1/users/<user_id>",                                          401, 200, 403, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/jobs/<job_id>",                                            401, 200, 403, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/audit_events",                                             401, 200, 403, 403, 403, 403, 403, 403, 200),
    api("get",    "api/v1/audit_events.csv",                                        401, 200, 403, 403, 403, 403, 403, 403, 200),
    api("get",    "api/v1/alerts",                                                  401, 200, 403, 403, 403, 403, 403, 403, 200),
    api("post",   "api/v1/alerts/<alert_id>/acknowledge",                           401, 200, 403, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/alert_rules",                                             401, 200, 403, 403, 403, 403, 403, 403, 200),
    api("post",   "api/v1/alert_rules",                                             401, 201, 403, 403, 403, 403, 403, 403, 201, body=new_alert_rule),
    api("get",    "api/v1/alert_rules/<rule_id>",                                   401, 200, 403, 403, 403, 403, 403, 403, 404),
    api("patch",  "api/v1/alert_rules/<rule_id>",                                   401, 200, 403, 403, 403, 403, 403, 403, 404, body=alert_rule_change),
    api("delete", "api/v1/alert_rules/<rule_id>",                                   401, 204, 403, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/tokens",                                                  401, 200, 200, 200, 200, 200, 200, 200, 200),
    api("post",   "api/v1/tokens",                                                  401, 201, 201, 201, 201, 201, 201, 201, 201, body=new_token),
    api("delete", "api/v1/tokens/<token_id>",                                       401, 204, 404, 404, 404, 404, 404, 404, 404),
    api("get",    "api/v1/organization/tokens",                                     401, 200, 403, 403, 403, 403, 403, 403, 200),
    api("get",    "api/v1/ontologies",                                               401, 200, 200, 200, 200, 200, 200, 200, 200),
    api("post",   "api/v1/ontologies",                                               401, 400, 400, 403, 403, 403, 403, 403, 400),
    api("get",    "api/v1/ontologies/<ontology_id>",                                 401, 200, 200, 200, 200, 200, 200, 200, 404),
    api("put",    "api/v1/ontologies/<ontology_id>",                                 401, 400, 400, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/ontologies/<ontology_id>/versions",                        401, 200, 200, 200, 200, 200, 200, 200, 404),
    api("get",    "api/v1/ontologies/<ontology_id>/diff",                            401, 200, 200, 200, 200, 200, 200, 200, 404),
    api("post",   "api/v1/ontologies/<ontology_id>/clone",                           401, 400, 400, 403, 403, 403, 403, 403, 404),
    api("post",   "api/v1/ontologies/<ontology_id>/archive",                         401, 200, 200, 403, 403, 403, 403, 403, 404),
    api("post",   "api/v1/ontologies/<ontology_id>/unarchive",                       401, 200, 200, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/features/<schema_id>",                                     401, 200, 200, 200, 200, 200, 200, 200, 404),
    api("get",    "api/v1/features/<schema_id>/annotations",                         401, 200, 200, 200, 200, 200, 200, 200, 404),
    api("get",    "api/v1/datasets",                                                 401, 200, 200, 200, 200, 200, 200, 200, 200),
    api("post",   "api/v1/datasets",                                                 401, 400, 400, 403, 403, 403, 403, 403, 400),
    api("get",    "api/v1/datasets/<dataset_id>",                                    401, 200, 200, 200, 200, 200, 200, 200, 404),
    api("patch",  "api/v1/datasets/<dataset_id>",                                    401, 200, 200, 403, 403, 403, 403, 403, 404),
    api("delete", "api/v1/datasets/<dataset_id>",                                    401, 204, 204, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/datasets/<dataset_id>/data_rows",                          401, 200, 200, 200, 200, 200, 200, 200, 404),
    api("post",   "api/v1/datasets/<dataset_id>/data_rows",                          401, 400, 400, 403, 403, 403, 403, 403, 404),
    api("post",   "api/v1/datasets/<dataset_id>/uploads",                            401, 415, 415, 403, 403, 403, 403, 403, 404),
    api("post",   "api/v1/datasets/<dataset_id>/data_rows/from_storage",             401, 400, 400, 403, 403, 403, 403, 403, 404),
    api("post",   "api/v1/datasets/<dataset_id>/dicom",                              401, 415, 415, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/imaging/settings",                                         401, 200, 403, 403, 403, 403, 403, 403, 200),
    api("patch",  "api/v1/imaging/settings",                                         401, 200, 403, 403, 403, 403, 403, 403, 200),
    api("get",    "api/v1/data_rows/<data_row_id>/imaging",                          401, 200, 200, 200, 200, 200, 200, 200, 404),
    api("post",   "api/v1/datasets/<dataset_id>/large_images",                       401, 415, 415, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/imaging/rows",                                             401, 400, 400, 400, 400, 400, 400, 400, 400),
    # the world's row has no pyramid: members get 404 too (tests/imagery/test_tiles.py serves real tiles)
    api("get",    "api/v1/data_rows/<data_row_id>/tiles/<level>/<tile>",             401, 404, 404, 404, 404, 404, 404, 404, 404, objects={"level": "data_row", "tile": "data_row"}),
    # the world's row is neither a tile service nor a DICOM slice: members get 404 (tests/imagery serve real ones)
    api("post",   "api/v1/datasets/<dataset_id>/tile_services",                      401, 400, 400, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/data_rows/<data_row_id>/xyz/<z>/<x>/<y>",                  401, 404, 404, 404, 404, 404, 404, 404, 404, objects={"z": "data_row", "x": "data_row", "y": "data_row"}),
    api("get",    "api/v1/data_rows/<data_row_id>/dicom/slices/<position>",          401, 404, 404, 404, 404, 404, 404, 404, 404, objects={"position": "data_row"}),
    api("get",    "api/v1/metadata_fields",                                          401, 200, 200, 200, 200, 200, 200, 200, 200),
    api("post",   "api/v1/metadata_fields",                                          401, 400, 400, 403, 403, 403, 403, 403, 400),
    api("get",    "api/v1/data_rows",                                                401, 200, 200, 200, 200, 200, 200, 200, 200),
    api("get",    "api/v1/data_rows/<data_row_id>",                                  401, 200, 200, 200, 200, 200, 200, 200, 404),
    api("delete", "api/v1/data_rows/<data_row_id>",                                  401, 204, 204, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/data_rows/<data_row_id>/content",                          401, 302, 302, 302, 302, 302, 302, 302, 404),
    # the world's row is an image: every member gets not_a_video (404), tests/video/ covers video rows
    api("get",    "api/v1/data_rows/<data_row_id>/video",                            401, 404, 404, 404, 404, 404, 404, 404, 404),
    api("get",    "api/v1/data_rows/<data_row_id>/video/poster",                     401, 404, 404, 404, 404, 404, 404, 404, 404),
    api("get",    "api/v1/data_rows/<data_row_id>/video/strip",                      401, 404, 404, 404, 404, 404, 404, 404, 404),
    api("get",    "api/v1/data_rows/<data_row_id>/video/stream",                     401, 404, 404, 404, 404, 404, 404, 404, 404),
    api("get",    "api/v1/storage_integrations",                                     401, 200, 403, 403, 403, 403, 403, 403, 200),
    api("post",   "api/v1/storage_integrations",                                     401, 400, 403, 403, 403, 403, 403, 403, 400),
    api("get",    "api/v1/storage_integrations/<integration_id>",                    401, 200, 403, 403, 403, 403, 403, 403, 404),
    api("patch",  "api/v1/storage_integrations/<integration_id>",                    401, 400, 403, 403, 403, 403, 403, 403, 404),
    api("delete", "api/v1/storage_integrations/<integration_id>",                    401, 204, 403, 403, 403, 403, 403, 403, 404),
    api("post",   "api/v1/storage_integrations/<integration_id>/validate",           401, 200, 403, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/projects",                                                 401, 200, 200, 200, 200, 200, 200, 200, 200),
    api("post",   "api/v1/projects",                                                 401, 400, 400, 403, 403, 403, 403, 403, 400),
    api("get",    "api/v1/projects/<project_id>",                                    401, 200, 200, 200, 200, 200, 200, 404, 404),
    api("patch",  "api/v1/projects/<project_id>",                                    401, 200, 200, 403, 403, 403, 200, 404, 404),
    api("post",   "api/v1/projects/<project_id>/ontology/upgrade",                   401, 409, 409, 403, 403, 403, 409, 404, 404),
    api("get",    "api/v1/projects/<project_id>/members",                            401, 200, 200, 200, 403, 403, 200, 404, 404),
    api("post",   "api/v1/projects/<project_id>/members",                            401, 400, 400, 403, 403, 403, 400, 404, 404),
    api("delete", "api/v1/projects/<project_id>/members/<user_id>",                  401, 204, 204, 403, 403, 403, 204, 404, 404),
    api("get",    "api/v1/projects/<project_id>/batches",                            401, 200, 200, 200, 403, 403, 200, 404, 404),
    api("post",   "api/v1/projects/<project_id>/batches",                            401, 400, 400, 403, 403, 403, 400, 404, 404),
    api("get",    "api/v1/batches/<batch_id>",                                       401, 200, 200, 200, 403, 403, 200, 404, 404),
    api("patch",  "api/v1/batches/<batch_id>",                                       401, 400, 400, 403, 403, 403, 400, 404, 404),
    api("get",    "api/v1/projects/<project_id>/overview",                           401, 200, 200, 200, 200, 200, 200, 404, 404),
    api("post",   "api/v1/projects/<project_id>/queue/next",                         401, 200, 200, 403, 200, 200, 200, 404, 404),
    api("post",   "api/v1/projects/<project_id>/queue/order",                       401, 202, 202, 403, 403, 403, 202, 404, 404),
    api("get",    "api/v1/projects/<project_id>/labels",                             401, 200, 200, 200, 200, 200, 200, 404, 404),
    api("post",   "api/v1/tasks/<task_id>/labels",                                   401, 400, 400, 403, 400, 400, 400, 404, 404),
    api("post",   "api/v1/tasks/<task_id>/skip",                                     401, 400, 400, 403, 400, 400, 400, 404, 404),
    # A draft is its owner's alone: the labeler holding the task reads theirs; everyone else has none to read (404)
    # and may keep none of a task they do not hold (403).
    api("get",    "api/v1/tasks/<task_id>/draft",                                    401, 404, 404, 403, 200, 404, 404, 404, 404),
    api("put",    "api/v1/tasks/<task_id>/draft",                                    401, 403, 403, 403, 400, 403, 403, 404, 404),
    api("delete", "api/v1/tasks/<task_id>/draft",                                    401, 204, 204, 403, 204, 204, 204, 404, 404),
    api("get",    "api/v1/labels/<label_id>",                                        401, 200, 200, 200, 200, 403, 200, 404, 404),
    api("patch",  "api/v1/labels/<label_id>",                                        401, 400, 400, 400, 400, 403, 400, 404, 404),
    api("post",   "api/v1/projects/<project_id>/review/next",                        401, 200, 200, 200, 403, 403, 200, 404, 404),
    api("get",    "api/v1/labels/<label_id>/reviews",                                401, 200, 200, 200, 200, 403, 200, 404, 404),
    api("post",   "api/v1/labels/<label_id>/reviews",                                401, 400, 400, 400, 403, 403, 400, 404, 404),
    api("get",    "api/v1/labels/<label_id>/issues",                                 401, 200, 200, 200, 200, 403, 200, 404, 404),
    api("post",   "api/v1/labels/<label_id>/issues",                                 401, 400, 400, 400, 400, 403, 400, 404, 404),
    api("get",    "api/v1/tasks/<task_id>/issues",                                   401, 200, 200, 200, 200, 403, 200, 404, 404),
    api("post",   "api/v1/tasks/<task_id>/issues",                                   401, 400, 400, 400, 400, 403, 400, 404, 404),
    api("get",    "api/v1/projects/<project_id>/issues",                             401, 200, 200, 200, 200, 200, 200, 404, 404),
    api("get",    "api/v1/projects/<project_id>/issues/open_by_task",                401, 200, 200, 200, 200, 200, 200, 404, 404),
    api("get",    "api/v1/issues/<issue_id>",                                        401, 200, 200, 200, 200, 403, 200, 404, 404),
    api("post",   "api/v1/issues/<issue_id>/comments",                               401, 400, 400, 400, 400, 403, 400, 404, 404),
    api("post",   "api/v1/issues/<issue_id>/resolve",                                401, 200, 200, 200, 200, 403, 200, 404, 404),
    api("post",   "api/v1/issues/<issue_id>/reopen",                                 401, 409, 409, 409, 409, 403, 409, 404, 404),
    api("get",    "api/v1/inbox",                                                    401, 200, 200, 200, 200, 200, 200, 200, 200),
    api("get",    "api/v1/embeddings",                                               401, 200, 200, 200, 200, 200, 200, 200, 200),
    api("post",   "api/v1/embeddings",                                               401, 400, 400, 403, 403, 403, 403, 403, 400),
    api("get",    "api/v1/embeddings/<space_id>",                                    401, 200, 200, 200, 200, 200, 200, 200, 404),
    api("post",   "api/v1/embeddings/<space_id>/vectors",                            401, 400, 400, 403, 403, 403, 403, 403, 404),
    api("post",   "api/v1/embeddings/<space_id>/analyses",                           401, 202, 202, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/embeddings/<space_id>/similar",                            401, 400, 400, 400, 400, 400, 400, 400, 404),
    api("post",   "api/v1/embeddings/<space_id>/similar",                            401, 400, 400, 400, 400, 400, 400, 400, 404),
    api("get",    "api/v1/datasets/<dataset_id>/similar",                            401, 400, 400, 400, 400, 400, 400, 400, 404),
    api("post",   "api/v1/datasets/<dataset_id>/similar",                            401, 400, 400, 400, 400, 400, 400, 400, 404),
    api("get",    "api/v1/datasets/<dataset_id>/projection",                         401, 400, 400, 400, 400, 400, 400, 400, 404),
    api("get",    "api/v1/datasets/<dataset_id>/outliers",                           401, 400, 400, 400, 400, 400, 400, 400, 404),
    api("get",    "api/v1/datasets/<dataset_id>/drift",                              401, 400, 400, 400, 400, 400, 400, 400, 404),
    api("post",   "api/v1/datasets/<dataset_id>/embed",                              401, 202, 202, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/slices",                                                   401, 200, 200, 200, 200, 200, 200, 200, 200),
    api("post",   "api/v1/slices",                                                   401, 400, 400, 400, 400, 400, 400, 400, 400),
    api("get",    "api/v1/slices/<slice_id>",                                        401, 200, 200, 200, 200, 200, 200, 200, 404),
    api("delete", "api/v1/slices/<slice_id>",                                        401, 204, 204, 403, 403, 403, 403, 403, 404),
    api("post",   "api/v1/slices/<slice_id>/send",                                   401, 200, 200, 403, 403, 403, 200, 404, 404, body=send_slice_to_project),
    api("get",    "api/v1/selection_targets",                                        401, 200, 200, 200, 200, 200, 200, 200, 200),
    api("get",    "api/v1/data_rows/<data_row_id>/lineage",                          401, 200, 200, 200, 200, 200, 200, 200, 404),
    api("post",   "api/v1/labels/<label_id>/benchmark",                              401, 201, 201, 403, 403, 403, 201, 404, 404),
    api("delete", "api/v1/labels/<label_id>/benchmark",                              401, 404, 404, 403, 403, 403, 404, 404, 404),
    api("get",    "api/v1/projects/<project_id>/quality",                            401, 200, 200, 200, 403, 403, 200, 404, 404),
    api("get",    "api/v1/projects/<project_id>/quality/rows",                       401, 200, 200, 200, 403, 403, 200, 404, 404),
    api("post",   "api/v1/projects/<project_id>/quality/recompute",                  401, 202, 202, 403, 403, 403, 202, 404, 404),
    api("get",    "api/v1/projects/<project_id>/data_rows/<data_row_id>/consensus",  401, 404, 404, 404, 403, 403, 404, 404, 404),
    api("get",    "api/v1/models",                                                   401, 200, 200, 403, 403, 403, 403, 403, 200),
    api("post",   "api/v1/models",                                                   401, 400, 400, 403, 403, 403, 403, 403, 400),
    api("get",    "api/v1/models/<model_id>",                                        401, 200, 200, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/models/<model_id>/runs",                                   401, 200, 200, 403, 403, 403, 403, 403, 404),
    api("post",   "api/v1/models/<model_id>/runs",                                   401, 400, 400, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/model_runs/<run_id>",                                      401, 200, 200, 403, 403, 403, 403, 403, 404),
    api("post",   "api/v1/model_runs/<run_id>/data_rows",                            401, 400, 400, 403, 403, 403, 403, 403, 404),
    api("post",   "api/v1/model_runs/<run_id>/predictions",                          401, 400, 400, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/model_endpoints",                                          401, 200, 200, 403, 403, 403, 403, 403, 200),
    api("post",   "api/v1/model_endpoints",                                          401, 400, 400, 403, 403, 403, 403, 403, 400),
    api("get",    "api/v1/model_endpoints/<endpoint_id>",                            401, 200, 200, 403, 403, 403, 403, 403, 404),
    api("patch",  "api/v1/model_endpoints/<endpoint_id>",                            401, 200, 200, 403, 403, 403, 403, 403, 404),
    api("delete", "api/v1/model_endpoints/<endpoint_id>",                            401, 204, 204, 403, 403, 403, 403, 403, 404),
    api("post",   "api/v1/model_endpoints/<endpoint_id>/check",                      401, 200, 200, 403, 403, 403, 403, 403, 404),
    api("post",   "api/v1/tasks/<task_id>/assist",                                   401, 400, 400, 403, 400, 400, 400, 404, 404),
    api("get",    "api/v1/model_media/<token>",                                      200, 200, 200, 200, 200, 200, 200, 200, 200),
    api("get",    "api/v1/projects/<project_id>/model_status",                       401, 200, 200, 200, 403, 403, 200, 404, 404),
    api("post",   "api/v1/projects/<project_id>/model_status/resend",                401, 404, 404, 403, 403, 403, 404, 404, 404),
    api("get",    "api/v1/projects/<project_id>/model_retrain",                      401, 200, 200, 200, 403, 403, 200, 404, 404),
    api("post",   "api/v1/projects/<project_id>/model_retrain",                      401, 409, 409, 403, 403, 403, 409, 404, 404),
    api("get",    "api/v1/training_data/<token>",                                    404, 404, 404, 404, 404, 404, 404, 404, 404),
    api("post",   "api/v1/projects/<project_id>/prelabels",                          401, 415, 415, 403, 403, 403, 415, 404, 404),
    api("get",    "api/v1/projects/<project_id>/prelabels/stats",                    401, 200, 200, 200, 403, 403, 200, 404, 404),
    api("get",    "api/v1/projects/<project_id>/prelabels/imports",                  401, 200, 200, 403, 403, 403, 200, 404, 404),
    api("get",    "api/v1/projects/<project_id>/expert_tasks",                       401, 200, 200, 200, 403, 403, 200, 404, 404),
    api("get",    "api/v1/labels/<label_id>/provenance",                             401, 200, 200, 200, 200, 403, 200, 404, 404),
    api("get",    "api/v1/model_runs/<run_id>/ground_truth",                         401, 200, 200, 403, 403, 403, 403, 403, 404),
    api("post",   "api/v1/model_runs/<run_id>/ground_truth",                         401, 400, 400, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/model_runs/<run_id>/metrics",                              401, 409, 409, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/model_runs/<run_id>/rows",                                 401, 409, 409, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/model_runs/<run_id>/errors",                               401, 409, 409, 403, 403, 403, 403, 403, 404),
    api("post",   "api/v1/model_runs/<run_id>/send_to_labeling",                     401, 400, 400, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/model_runs/compare",                                      401, 400, 400, 403, 403, 403, 403, 403, 400),
    api("get",    "api/v1/model_runs/compare/flipped",                              401, 400, 400, 403, 403, 403, 403, 403, 400),
    api("get",    "api/v1/model_runs/<run_id>/training_data",                       401, 200, 200, 403, 403, 403, 403, 403, 404),
    api("post",   "api/v1/model_runs/<run_id>/mine_similar",                        401, 400, 400, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/projects/<project_id>/performance",                        401, 200, 200, 200, 200, 200, 200, 404, 404),
    api("get",    "api/v1/projects/<project_id>/performance.csv",                    401, 200, 200, 200, 200, 200, 200, 404, 404),
    api("get",    "api/v1/projects/<project_id>/export.ndjson",                      401, 200, 200, 200, 403, 403, 200, 404, 404),
    api("get",    "api/v1/projects/<project_id>/exports/video",                      401, 400, 400, 400, 403, 403, 400, 404, 404),  # `kind` is required
    api("get",    "api/v1/projects/<project_id>/export.geojson",                     401, 200, 200, 200, 403, 403, 200, 404, 404),
    api("get",    "api/v1/projects/<project_id>/exports",                            401, 200, 200, 200, 403, 403, 200, 404, 404),
    api("post",   "api/v1/projects/<project_id>/exports",                            401, 400, 400, 400, 403, 403, 400, 404, 404),
    api("get",    "api/v1/exports/<export_id>",                                      401, 200, 200, 200, 403, 403, 200, 404, 404),
    api("post",   "api/v1/exports/<export_id>/retry",                                401, 409, 409, 409, 403, 403, 409, 404, 404),
    api("get",    "api/v1/exports/<export_id>/download",                             401, 409, 409, 409, 403, 403, 409, 404, 404),
    api("post",   "api/v1/projects/<project_id>/ground_truth/coco",                  401, 400, 400, 403, 403, 403, 400, 404, 404),
    api("get",    "api/v1/schemas/export-ndjson.json",                               200, 200, 200, 200, 200, 200, 200, 200, 200),
    api("get",    "api/v1/webhooks",                                                 401, 200, 403, 403, 403, 403, 403, 403, 200),
    api("post",   "api/v1/webhooks",                                                 401, 400, 403, 403, 403, 403, 403, 403, 400),
    api("get",    "api/v1/webhooks/<webhook_id>",                                    401, 200, 403, 403, 403, 403, 403, 403, 404),
    api("patch",  "api/v1/webhooks/<webhook_id>",                                    401, 200, 403, 403, 403, 403, 403, 403, 404),
    api("delete", "api/v1/webhooks/<webhook_id>",                                    401, 204, 403, 403, 403, 403, 403, 403, 404),
    api("get",    "api/v1/webhooks/<webhook_id>/deliveries",                         401, 200, 403, 403, 403, 403, 403, 403, 404),
    api("post",   "api/v1/webhooks/<webhook_id>/test",                               401, 202, 403, 403, 403, 403, 403, 403, 404),
    api("post",   "api/v1/webhooks/<webhook_id>/deliveries/<delivery_id>/redeliver", 401, 202, 403, 403, 403, 403, 403, 403, 404),
    api("get",    "api/schema/",                                                     200, 200, 200, 200, 200, 200, 200, 200, 200),
    api("get",    "api/docs/",                                                       200, 200, 200, 200, 200, 200, 200, 200, 200),
    api("get",    "api/redoc/",                                                      200, 200, 200, 200, 200, 200, 200, 200, 200),
    page("get",    "projects/<project_id>/",                                          302, 200, 200, 200, 200, 200, 200, 404, 404),
    page("post",   "projects/<project_id>/next",                                      302, 302, 302, 403, 302, 302, 302, 404, 404),
    page("get",    "tasks/<task_id>/label",                                           302, 302, 302, 403, 200, 302, 302, 404, 404),
    page("post",   "tasks/<task_id>/label",                                           302, 302, 302, 403, 302, 302, 302, 404, 404),
    page("post",   "tasks/<task_id>/skip",                                            302, 302, 302, 403, 302, 302, 302, 404, 404),
    # "Previous task": only the labeler reopens their own label (a manager who may see it is still refused).
    page("get",    "labels/<label_id>/edit",                                          302, 403, 403, 403, 200, 403, 403, 404, 404),
    page("post",   "labels/<label_id>/edit",                                          302, 403, 403, 403, 302, 403, 403, 404, 404),
    page("get",    "projects/<project_id>/review/",                                   302, 200, 200, 200, 403, 403, 200, 404, 404),
    page("post",   "projects/<project_id>/review/next",                               302, 302, 302, 302, 403, 403, 302, 404, 404),
    page("get",    "reviews/<task_id>/",                                              302, 302, 302, 302, 403, 403, 302, 404, 404, objects={"task_id": "task"}),
    page("post",   "reviews/<task_id>/",                                              302, 302, 302, 302, 403, 403, 302, 404, 404, objects={"task_id": "task"}),
    page("get",    "inbox/",                                                          302, 200, 200, 200, 200, 200, 200, 200, 200),
    page("get",    "projects/<project_id>/issues/",                                   302, 200, 200, 200, 200, 200, 200, 404, 404),
    page("get",    "issues/<issue_id>/",                                              302, 200, 200, 200, 200, 403, 200, 404, 404),
    # The crop follows the access; the world's issue is on a remote-URL row, which has no crop (404).
    page("get",    "issues/<issue_id>/crop.png",                                      302, 404, 404, 404, 404, 403, 404, 404, 404),
    page("post",   "issues/<issue_id>/resolve",                                       302, 302, 302, 302, 302, 403, 302, 404, 404),
    page("post",   "issues/<issue_id>/reopen",                                        302, 302, 302, 302, 302, 403, 302, 404, 404),
    page("get",    "catalog/",                                                        302, 200, 200, 200, 200, 200, 200, 200, 200),
    page("get",    "catalog/datasets/<dataset_id>/",                                  302, 200, 200, 200, 200, 200, 200, 200, 404),
    page("get",    "catalog/rows/<data_row_id>/lineage/",                             302, 200, 200, 200, 200, 200, 200, 200, 404),
    page("get",    "projects/<project_id>/quality/",                                  302, 200, 200, 200, 403, 403, 200, 404, 404),
    page("get",    "projects/<project_id>/quality/rows/<data_row_id>/",               302, 200, 200, 200, 403, 403, 200, 404, 404),
    page("post",   "labels/<label_id>/benchmark",                                     302, 302, 302, 403, 403, 403, 302, 404, 404),
    page("post",   "projects/<project_id>/prelabels/resend",                          302, 302, 302, 403, 403, 403, 302, 404, 404),
    page("post",   "projects/<project_id>/prelabels/retrain",                         302, 302, 302, 403, 403, 403, 302, 404, 404),
    page("get",    "model-endpoints/",                                                302, 200, 200, 403, 403, 403, 403, 403, 200),
    page("get",    "model-endpoints/<endpoint_id>/",                                  302, 200, 200, 403, 403, 403, 403, 403, 404),
    page("post",   "model-endpoints/<endpoint_id>/check",                             302, 302, 302, 403, 403, 403, 403, 403, 404),
    page("get",    "projects/<project_id>/prelabels/",                                302, 200, 200, 200, 403, 403, 200, 404, 404),
    page("get",    "model_runs/",                                                     302, 200, 200, 403, 403, 403, 403, 403, 200),
    page("get",    "model_runs/<run_id>/diagnostics/",                                302, 200, 200, 403, 403, 403, 403, 403, 404),
    page("get",    "model_runs/new/",                                                 302, 200, 200, 403, 403, 403, 403, 403, 200),
    page("post",   "model_runs/new/",                                                 302, 400, 400, 403, 403, 403, 403, 403, 400),
    page("get",    "model_runs/<run_id>/setup/",                                      302, 200, 200, 403, 403, 403, 403, 403, 404),
    page("get",    "datasets/",                                                       302, 200, 200, 403, 403, 403, 403, 403, 200),
    page("post",   "datasets/",                                                       302, 400, 400, 403, 403, 403, 403, 403, 400),
    page("get",    "datasets/<dataset_id>/import/",                                   302, 200, 200, 403, 403, 403, 403, 403, 404),
    page("post",   "datasets/<dataset_id>/import/existing",                           302, 400, 400, 403, 403, 403, 403, 403, 404),
    page("post",   "datasets/<dataset_id>/import/batch",                              302, 400, 400, 403, 403, 403, 403, 403, 404),
    page("post",   "imports/errors.csv",                                              302, 400, 400, 403, 403, 403, 403, 403, 400),
    page("post",   "model_runs/<run_id>/diagnostics/send/",                           302, 302, 302, 403, 403, 403, 403, 403, 404),
    page("get",   "model_runs/compare/",                                            302, 400, 400, 403, 403, 403, 403, 403, 400),
    page("post",  "model_runs/<run_id>/diagnostics/mine/",                          302, 302, 302, 403, 403, 403, 403, 403, 404),
    page("get",   "settings/tokens/",                                               302, 200, 200, 200, 200, 200, 200, 200, 200),
    page("post",  "settings/tokens/<token_id>/revoke/",                             302, 404, 404, 404, 404, 404, 404, 404, 404),
    page("get",    "projects/<project_id>/analytics/",                                302, 200, 200, 200, 403, 403, 200, 404, 404),
    page("get",    "me/stats/",                                                       302, 200, 200, 200, 200, 200, 200, 200, 200),
    page("get",    "projects/<project_id>/exports/",                                  302, 200, 200, 200, 403, 403, 200, 404, 404),
    page("get",    "",                                                                302, 200, 200, 200, 200, 200, 200, 200, 200),
    page("get",    "login/",                                                          200, 302, 302, 302, 302, 302, 302, 302, 302),
    page("get",    "logout/",                                                         405, 405, 405, 405, 405, 405, 405, 405, 405),
    page("get",    "password/",                                                       302, 200, 200, 200, 200, 200, 200, 200, 200),
    page("get",    "password/done/",                                                  302, 200, 200, 200, 200, 200, 200, 200, 200),
]
# fmt: on
