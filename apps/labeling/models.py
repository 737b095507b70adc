"""Projects, members, batches, the task queue, labels and their normalized annotation rows."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.db import models

from apps.core.models import BaseModel, OrganizationOwnedModel


class ProjectRole(models.TextChoices):
    LABELER = "labeler", "Labeler"
    REVIEWER = "reviewer", "Reviewer"
    TEAM_MANAGER = "team_manager", "Team manager"
    EXPERT = "expert", "Expert"
    ADMIN = "admin", "Admin"


class Project(OrganizationOwnedModel):
    """A labeling project: an ontology version pinned, a media type, instructions and workflow settings."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    ontology = models.ForeignKey("ontologies.Ontology", on_delete=models.PROTECT, related_name="projects")
    ontology_version = models.ForeignKey(
        "ontologies.OntologyVersion", on_delete=models.PROTECT, related_name="projects"
    )
    media_type = models.CharField(max_length=10, default="image")
    instructions = models.TextField(blank=True)
    # The settings blocks of API.md (`quality`, `review`, `routing`, `queue`) plus `lease_minutes`, validated by
    # `domain.settings.normalize_settings`.
    settings = models.JSONField(default=dict, blank=True)
    archived = models.BooleanField(default=False)
    # What later apps have put into the project, so the claim and submit paths skip their lookups when there is
    # nothing to find (most projects have neither). Set once, never cleared: a stale `True` costs one query.
    has_benchmark_references = models.BooleanField(default=False, editable=False)
    has_prelabels = models.BooleanField(default=False, editable=False)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(OrganizationOwnedModel.Meta):
        permissions = [
            ("label_project", "Can claim and label tasks"),
            ("review_project", "Can review labels"),
            ("expert_project", "Can work expert tasks"),
            ("manage_project", "Can change settings, members and batches"),
            ("view_project_work", "Can see all labels and progress"),
        ]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="project_unique_name")]

    def __str__(self) -> str:
        return self.name


class ProjectMember(BaseModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_memberships"
    )
    role = models.CharField(max_length=20, choices=ProjectRole.choices)
    hourly_rate = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)

    class Meta(BaseModel.Meta):
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="project_member_unique")]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} in {self.project}"


class Batch(BaseModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="batches")
    name = models.CharField(max_length=200)
    priority = models.PositiveSmallIntegerField(default=3)
    # Per-batch overrides of the project's quality settings (`consensus_coverage`, `consensus_labelers`).
    quality = models.JSONField(default=dict, blank=True)
    # A paused batch hands out no new work: its queued tasks wait in the `paused` state (leases run to their end).
    paused = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(BaseModel.Meta):
        verbose_name_plural = "batches"
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="batch_unique_name"),
            models.CheckConstraint(condition=models.Q(priority__gte=1, priority__lte=5), name="batch_priority_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.project} / {self.name}"


class TaskState(models.TextChoices):
    TO_LABEL = "to_label", "To label"
    IN_PROGRESS = "in_progress", "In progress"
    IN_REVIEW = "in_review", "In review"
    IN_REWORK = "in_rework", "In rework"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"
    AWAITING_CONSENSUS = "awaiting_consensus", "Awaiting consensus"
    PAUSED = "paused", "Paused (batch paused)"


class TaskKind(models.TextChoices):
    LABEL = "label", "Label"
    CONSENSUS = "consensus", "Consensus"
    BENCHMARK = "benchmark", "Benchmark"
    REWORK = "rework", "Rework"
    EXPERT = "expert", "Expert"


class Task(BaseModel):
    """One queue slot for a data row in a project. Slot 0 is the ordinary label; consensus adds slots 1..n-1, each
    for a distinct labeler. The state machine lives in `domain.states`; transitions are services."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="tasks")
    data_row = models.ForeignKey("datasets.DataRow", on_delete=models.CASCADE, related_name="tasks")
    slot = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=TaskKind.choices, default=TaskKind.LABEL)
    priority = models.PositiveSmallIntegerField(default=3)
    state = models.CharField(max_length=20, choices=TaskState.choices, default=TaskState.TO_LABEL)
    # Raised by quality (low consensus) so the review queue serves the row first.
    review_priority = models.SmallIntegerField(default=0)
    assignee = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="leased_tasks"
    )
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # The client that holds the lease, as the claim named it (`lease_key`: a script's worker, a browser tab): one
    # labeler may hold up to `lease.max_per_labeler` live leases, one per key (null for clients that name none).
    # Nullable so that adding it is an ALTER TABLE ADD COLUMN on SQLite too: a table rebuild would drop the
    # expression index `task_claim_order_sqlite` (migration 0011), which the model does not declare.
    lease_key = models.CharField(max_length=64, null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    labeled_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="labeled_tasks"
    )
    # Rework goes back to this user first; to anyone once `rework_open_at` has passed.
    rework_user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="rework_tasks"
    )
    rework_open_at = models.DateTimeField(null=True, blank=True)
    skip_reason = models.TextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    # Expert tasks (routed by the predictions app): the deadline, the row's lowest model confidence (served lowest
    # first), and when the managers were told it is overdue (the overdue flag; set once).
    due_at = models.DateTimeField(null=True, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    # Active learning: the row's place in the project's queue order (`queue.order` setting), lowest first, within
    # a batch priority. Precomputed by a background job (predictions app), never per claim; null = unranked (last).
    queue_rank = models.FloatField(null=True, blank=True)

    class Meta(BaseModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["project", "data_row", "slot"], name="task_unique_row_slot"),
        ]
        indexes = [
            # The claim query: open tasks of a project by priority, then queue rank (active learning), then age.
            models.Index(
                fields=["project", "-priority", "queue_rank", "created_at", "id"],
                condition=models.Q(state__in=["to_label", "in_progress", "in_rework"]),
                name="task_claimable",
            ),
            models.Index(fields=["project", "state"], name="task_project_state"),
            models.Index(fields=["project", "data_row"], name="task_project_row"),
            models.Index(fields=["assignee", "state"], name="task_assignee_state"),
            # Analytics: rows done in a time range (the live part of a dashboard range).
            models.Index(
                fields=["project", "done_at"], condition=models.Q(done_at__isnull=False), name="task_project_done"
            ),
            # The expert queue: a project's expert tasks, lowest confidence first.
            models.Index(
                fields=["project", "confidence", "created_at"],
                condition=models.Q(kind="expert"),
                name="task_expert_queue",
            ),
        ]

    def __str__(self) -> str:
        return f"task {self.id} ({self.state})"


class LabelSource(models.TextChoices):
    LABELER = "labeler", "Labeler"
    EXPERT = "expert", "Expert"


class Label(BaseModel):
    """A submitted label: the normalized annotation document plus who, when, how long. Editing before review
    creates a new revision row and marks the old one not current, so the history is kept."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="labels")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="labels")
    data_row = models.ForeignKey("datasets.DataRow", on_delete=models.CASCADE, related_name="labels")
    labeler = models.ForeignKey(django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="labels")
    ontology_version = models.ForeignKey("ontologies.OntologyVersion", on_delete=models.PROTECT, related_name="+")
    annotations = models.JSONField(default=list)
    revision = models.PositiveIntegerField(default=1)
    previous = models.OneToOneField("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="next")
    is_current = models.BooleanField(default=True)
    seconds_spent = models.FloatField(null=True, blank=True, help_text="Reported by the client.")
    server_seconds = models.FloatField(null=True, blank=True, help_text="From claim to submit, measured here.")
    source = models.CharField(max_length=20, choices=LabelSource.choices, default=LabelSource.LABELER)

    class Meta(BaseModel.Meta):
        indexes = [
            models.Index(fields=["project", "-created_at", "-id"], name="label_project_created"),
            models.Index(fields=["project", "labeler"], name="label_project_labeler"),
            models.Index(fields=["project", "data_row"], name="label_project_row"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["task"], condition=models.Q(is_current=True), name="label_one_current_per_task"
            )
        ]

    def __str__(self) -> str:
        return f"label {self.id} r{self.revision}"


class Annotation(models.Model):
    """One annotation (or nested classification answer) of a label as plain indexed columns, for metrics and
    cross-project feature queries. Rebuilt from the label document; never edited on its own."""

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True)
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="annotation_rows")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    data_row = models.ForeignKey("datasets.DataRow", on_delete=models.CASCADE, related_name="+")
    index = models.PositiveIntegerField(help_text="Position of the top-level annotation in the label.")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    schema_id = models.UUIDField(db_index=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20)  # bbox polygon polyline point ner radio checklist text
    x = models.FloatField(null=True, blank=True)
    y = models.FloatField(null=True, blank=True)
    width = models.FloatField(null=True, blank=True)
    height = models.FloatField(null=True, blank=True)
    area = models.FloatField(null=True, blank=True, help_text="Masks: the number of set pixels.")
    geometry = models.JSONField(null=True, blank=True)
    answer = models.JSONField(null=True, blank=True)
    confidence = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["schema_id", "-created_at", "-id"], name="annotation_feature_created")]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class Draft(BaseModel):
    """Unsubmitted work of one user on one task (the label page saves it every few seconds). Not a label: nothing
    scores, reviews, exports or announces it; it is deleted when that user's label for the task is stored."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="drafts")
    user = models.ForeignKey(django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="label_drafts")
    # Denormalized for tenancy (the admin lists an organization's drafts) without joining through the task.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    annotations = models.JSONField(default=list)
    # The client's counter of changes: a save older than the stored one (another tab or device) is refused.
    revision = models.PositiveIntegerField(default=0)
    seconds_spent = models.FloatField(null=True, blank=True, help_text="Time on the task so far, from the client.")
    client_saved_at = models.DateTimeField(null=True, blank=True)
    size_bytes = models.PositiveIntegerField(default=0)

    class Meta(BaseModel.Meta):
        constraints = [models.UniqueConstraint(fields=["task", "user"], name="draft_one_per_task_user")]
        indexes = [models.Index(fields=["user", "-updated_at"], name="draft_user_updated")]

    def __str__(self) -> str:
        return f"draft of {self.user_id} on {self.task_id}"
