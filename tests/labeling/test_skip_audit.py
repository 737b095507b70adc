"""A skip is a labeler's write like a submit: it is in the audit trail, with the reason."""

import pytest

from apps.core.models import AuditEvent
from tests.labeling.test_queue_api import add_batch

pytestmark = pytest.mark.django_db


def test_skip_is_audited_with_its_reason(project, members, org, org_admin, make_rows, client_for):
    add_batch(project, org_admin, make_rows(1))
    client = client_for(members["labeler"])
    task = client.post(f"/api/v1/projects/{project.id}/queue/next").json()["task"]
    assert client.post(f"/api/v1/tasks/{task}/skip", {"reason": "image is blank"}, format="json").status_code == 200
    event = AuditEvent.objects.get(action="task.skipped", object_id=task)
    assert event.actor == members["labeler"] and event.organization == org
    assert event.extra == {"reason": "image is blank"}
