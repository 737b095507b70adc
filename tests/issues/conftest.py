"""Issues fixtures: the labeling fixtures and the review project (every label needs review)."""

from tests.labeling.conftest import make_rows, members, ontology, project_factory  # noqa: F401
from tests.review.conftest import project, queue, second_labeler  # noqa: F401
