"""Where an import goes (`Target`): a project's pre-labels or a model run's predictions. Its own module so the
services that act on a target (routing, queue order) and the importer can all import it without a cycle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.labeling.models import Project
from apps.ontologies.models import OntologyVersion
from apps.predictions.models import ImportKind, ModelRun, Prediction, Prelabel


@dataclass
class Target:
    """Where an import goes: a project's pre-labels or a model run's predictions."""

    kind: str
    organization_id: Any
    version: OntologyVersion
    project: Project | None = None
    model_run: ModelRun | None = None

    @property
    def owner_column(self) -> str:
        return "project_id" if self.kind == ImportKind.PRELABELS else "model_run_id"

    @property
    def owner_id(self) -> Any:
        return self.project.pk if self.project is not None else self.model_run.pk  # type: ignore[union-attr]

    @property
    def model(self) -> type[Prelabel] | type[Prediction]:
        return Prelabel if self.kind == ImportKind.PRELABELS else Prediction


def prelabel_target(project: Project) -> Target:
    return Target(ImportKind.PRELABELS, project.organization_id, project.ontology_version, project=project)


def prediction_target(model_run: ModelRun) -> Target:
    return Target(
        ImportKind.PREDICTIONS, model_run.model.organization_id, model_run.ontology_version, model_run=model_run
    )
