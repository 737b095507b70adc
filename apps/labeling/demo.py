"""Demo projects on the street-scene dataset (idempotent): the main project and a consensus project.

- **Demo: street scenes**: every scene in three batches (the first, a consensus sample, labeled by three labelers
  per row); every label is reviewed. The quality loader replays 30 days
  of work on it (labels, reviews with rework, issues, benchmark rows) and leaves the rest queued for the demo users.
- **Demo: consensus**: the first 36 scenes, each labeled by three labelers (consensus scores on the quality page).
"""

from __future__ import annotations

from apps.accounts.models import Organization, User
from apps.datasets.demo import DEMO_DATASET
from apps.datasets.models import DataRow
from apps.labeling import services
from apps.labeling.models import Project
from apps.ontologies.models import Ontology

PROJECT_NAME = "Demo: street scenes"
CONSENSUS_PROJECT_NAME = "Demo: consensus"
CONSENSUS_ROWS = 36
MAIN_CONSENSUS_ROWS = 20  # the main project's "Consensus sample" batch: three labelers per row
MEMBERS = {
    "demo-labeler": "labeler",
    "demo-labeler2": "labeler",
    "demo-labeler3": "labeler",
    "demo-reviewer": "reviewer",
    "demo-manager": "team_manager",
    "demo-expert": "expert",
    "demo-admin": "admin",
}
INSTRUCTIONS = (
    "Draw a tight box around every car, truck, bus, ambulance, bicycle and person, including small ones far away and "
    "the parts hidden behind other objects you can infer.\n"
    "Cars: say the kind (sedan, taxi, police); for police cars and ambulances, say whether the light bar is on.\n"
    "Trace the three lane lines (both road edges and the dashed centre line) with the line tool, and outline zebra "
    "crossings with the polygon tool.\n"
    "Answer weather and time of day for every image; tick tags that apply."
)


def _project(
    organization: Organization, admin: User, ontology: Ontology, name: str, settings: dict[str, object]
) -> Project:
    project = services.project_create(
        actor=admin, name=name, ontology=ontology, media_type="image", instructions=INSTRUCTIONS, settings=settings
    )
    for username, role in MEMBERS.items():
        user = User.objects.filter(organization=organization, username=username).first()
        if user is not None:
            services.project_member_set(actor=admin, project=project, user=user, role=role)
    return project


def load(organization: Organization) -> None:
    if Project.objects.filter(organization=organization, name=PROJECT_NAME).exists():
        return
    ontology = Ontology.objects.filter(organization=organization, name="street scenes").first()
    admin = User.objects.filter(organization=organization, role="admin").order_by("date_joined").first()
    if ontology is None or admin is None:
        return
    keys = list(
        DataRow.objects.filter(organization=organization, dataset__name=DEMO_DATASET)
        .order_by("global_key")
        .values_list("global_key", flat=True)
    )
    if not keys:
        return
    main = _project(organization, admin, ontology, PROJECT_NAME, {"review": {"sample_rate": 1.0}})
    half = (len(keys) * 5) // 8
    sample = min(MAIN_CONSENSUS_ROWS, half // 2)
    services.batch_create(
        actor=admin,
        project=main,
        name="Consensus sample",
        global_keys=keys[:sample],
        priority=4,
        quality={"consensus_coverage": 1.0, "consensus_labelers": 3},
    )
    services.batch_create(
        actor=admin, project=main, name="September, first weeks", global_keys=keys[sample:half], priority=4
    )
    services.batch_create(actor=admin, project=main, name="September, last weeks", global_keys=keys[half:], priority=3)
    consensus = _project(
        organization,
        admin,
        ontology,
        CONSENSUS_PROJECT_NAME,
        {"review": {"sample_rate": 0.0}, "quality": {"consensus_coverage": 1.0, "consensus_labelers": 3}},
    )
    services.batch_create(actor=admin, project=consensus, name="three labelers", global_keys=keys[:CONSENSUS_ROWS])
