"""Imagery fixtures: the datasets and labeling fixtures (a manager, a dataset, a project with members)."""

from tests.datasets.conftest import dataset, manager, manager_client, other_dataset  # noqa: F401
from tests.labeling.conftest import make_rows, members, ontology, project, project_factory  # noqa: F401
