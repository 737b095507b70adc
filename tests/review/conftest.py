"""Review fixtures: the labeling fixtures with a project where every label needs review, plus helpers that label
through the real services."""

from __future__ import annotations

import pytest

from apps.labeling import services
from apps.labeling.models import Label
from tests.labeling.conftest import good_label, make_rows, members, ontology, project_factory  # noqa: F401


@pytest.fixture
def project(project_factory):  # noqa: F811
    return project_factory(review={"sample_rate": 1.0, "rework_wait_hours": 4})


@pytest.fixture
def second_labeler(project, org, org_admin, make_user):
    user = make_user(role="labeler", organization=org, username="p-labeler-2")
    services.project_member_set(actor=org_admin, project=project, user=user, role="labeler")
    return user


@pytest.fixture
def queue(project, org_admin, make_rows):  # noqa: F811
    """Two batches: priority 2 (rows low-*) and priority 5 (rows high-*)."""

    def make(low: int = 1, high: int = 0):
        rows = []
        if low:
            low_rows = make_rows(low, prefix="low")
            services.batch_create(
                actor=org_admin, project=project, name="low", data_row_ids=[str(r.id) for r in low_rows], priority=2
            )
            rows += low_rows
        if high:
            high_rows = make_rows(high, prefix="high")
            services.batch_create(
                actor=org_admin, project=project, name="high", data_row_ids=[str(r.id) for r in high_rows], priority=5
            )
            rows += high_rows
        return rows

    return make


def submit(project, user, annotations=None) -> Label:
    task = services.queue_claim(actor=user, project=project)
    assert task is not None, "nothing to label"
    return services.label_submit(actor=user, task=task, annotations=annotations or good_label(), seconds_spent=12)
