"""Models, model runs and their rows, prediction / pre-label imports, the stored pre-labels and predictions (one row
per top-level annotation), and what labelers did with the pre-labels they were shown."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone

from apps.core.models import BaseModel, OrganizationOwnedModel
from apps.labeling.models import Task


class Model(OrganizationOwnedModel):
    """A team's own model: predictions of its runs use the features of this ontology."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    ontology = models.ForeignKey("ontologies.Ontology", on_delete=models.PROTECT, related_name="ml_models")
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(OrganizationOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="model_unique_name")]

    def __str__(self) -> str:
        return self.name


class ModelRun(BaseModel):
    """One trained version of a model (name/version, its config), with the rows it saw and its predictions."""

    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="runs")
    name = models.CharField(max_length=200)
    config = models.JSONField(default=dict, blank=True)
    # The ontology version predictions are validated against (the model's current one when the run was created).
    ontology_version = models.ForeignKey("ontologies.OntologyVersion", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(BaseModel.Meta):
        constraints = [models.UniqueConstraint(fields=["model", "name"], name="model_run_unique_name")]

    def __str__(self) -> str:
        return f"{self.model} / {self.name}"


class Split(models.TextChoices):
    TRAIN = "train", "Train"
    VALID = "valid", "Validation"
    TEST = "test", "Test"
    UNASSIGNED = "unassigned", "Unassigned"


class ModelRunDataRow(models.Model):
    id = models.BigAutoField(primary_key=True)
    model_run = models.ForeignKey(ModelRun, on_delete=models.CASCADE, related_name="data_rows")
    data_row = models.ForeignKey("datasets.DataRow", on_delete=models.CASCADE, related_name="+")
    split = models.CharField(max_length=12, choices=Split.choices, default=Split.UNASSIGNED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["model_run", "data_row"], name="model_run_row_unique")]

    def __str__(self) -> str:
        return f"{self.data_row_id} ({self.split})"


class ImportKind(models.TextChoices):
    PRELABELS = "prelabels", "Pre-labels"
    PREDICTIONS = "predictions", "Predictions"


class ImportStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class PredictionImport(OrganizationOwnedModel):
    """One NDJSON import of pre-labels (into a project) or predictions (into a model run): who, when, the counts
    and the per-line error report (capped)."""

    kind = models.CharField(max_length=12, choices=ImportKind.choices)
    project = models.ForeignKey(
        "labeling.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="prediction_imports"
    )
    model_run = models.ForeignKey(ModelRun, null=True, blank=True, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=12, choices=ImportStatus.choices, default=ImportStatus.RUNNING)
    bytes = models.BigIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    errors_truncated = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(OrganizationOwnedModel.Meta):
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(project__isnull=False, model_run__isnull=True, kind="prelabels"))
                | models.Q(project__isnull=True, model_run__isnull=False, kind="predictions"),
                name="prediction_import_one_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} import {self.id} ({self.status})"


class StoredAnnotation(models.Model):
    """One top-level annotation a model proposed for a data row, normalized by the ontology validator. `uuid` is
    the annotation's id from the file (or derived from its row and content), unique per owner: re-importing a file
    updates these rows instead of adding copies."""

    id = models.BigAutoField(primary_key=True)
    # Bulk-written (50,000 per second): the foreign keys have no database constraint, which would cost two lookups
    # per row at commit. The import resolves every row in its own transaction, and deletes cascade through Django
    # (a row or project deleted while an import runs leaves rows no query can reach: no claim, figure or export
    # looks them up without their row).
    data_row = models.ForeignKey("datasets.DataRow", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    uuid = models.UUIDField()
    schema_id = models.UUIDField()
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20)  # bbox polygon polyline point ner radio checklist text
    annotation = models.JSONField()
    confidence = models.FloatField(null=True, blank=True)
    # No database constraint: checking it would cost one lookup per imported annotation; the import deleting is
    # handled by Django (SET_NULL) and the id is informational.
    source_import = models.ForeignKey(
        PredictionImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    # Database defaults: the COPY of a first import leaves both out (the transaction's time; not parsed per row).
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        abstract = True
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} on {self.data_row_id}"


class Prelabel(StoredAnnotation):
    # Two indexes, not four, to maintain per imported annotation: (project, uuid) serves every query by project (and
    # the cascade from it), `data_row`'s own index the queries by project and row (a row has a few pre-labels).
    project = models.ForeignKey(
        "labeling.Project", on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )

    class Meta(StoredAnnotation.Meta):
        constraints = [models.UniqueConstraint(fields=["project", "uuid"], name="prelabel_unique_uuid")]


class Prediction(StoredAnnotation):
    model_run = models.ForeignKey(ModelRun, on_delete=models.CASCADE, related_name="predictions", db_constraint=False)

    class Meta(StoredAnnotation.Meta):
        constraints = [models.UniqueConstraint(fields=["model_run", "uuid"], name="prediction_unique_uuid")]
        indexes = [models.Index(fields=["model_run", "data_row"], name="prediction_run_row")]


class Outcome(models.TextChoices):
    ACCEPTED = "accepted", "Accepted unchanged"
    MODIFIED = "modified", "Modified"
    REJECTED = "rejected", "Rejected (deleted)"
    ADDED = "added", "Added by hand"


class LabelAssist(models.Model):
    """Per submitted label: whether the labeler was shown pre-labels, and the time spent (for the saving)."""

    label = models.OneToOneField("labeling.Label", on_delete=models.CASCADE, primary_key=True, related_name="+")
    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="+")
    had_prelabels = models.BooleanField()
    seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["project", "had_prelabels"], name="label_assist_project")]

    def __str__(self) -> str:
        return f"label {self.label_id} ({'pre-labeled' if self.had_prelabels else 'by hand'})"


class AnnotationProvenance(models.Model):
    """What happened to each annotation of a submitted label (accepted / modified pre-label, added by hand) and to
    each pre-label missing from it (rejected), decided on the server against the stored pre-labels."""

    id = models.BigAutoField(primary_key=True)
    label = models.ForeignKey("labeling.Label", on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="+")
    index = models.PositiveIntegerField(null=True, blank=True, help_text="Annotation position; none for rejected.")
    prelabel_uuid = models.UUIDField(null=True, blank=True)
    schema_id = models.UUIDField()
    name = models.CharField(max_length=200)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    confidence = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "schema_id"], name="provenance_project_feature")]

    def __str__(self) -> str:
        return f"{self.outcome} {self.name}"


class ExpertTask(Task):
    """The expert queue in the admin: labeling's expert tasks (a proxy, no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "expert task"
        ordering = ["confidence", "created_at"]


class EndpointKind(models.TextChoices):
    DETECTOR = "detector", "Detector (pre-labels)"
    CLASSIFIER = "classifier", "Classifier (pre-labels)"
    EMBEDDER = "embedder", "Embedder (vectors)"
    INTERACTIVE = "interactive", "Interactive (assist)"


class EndpointProtocol(models.TextChoices):
    TDP = "tdp", "TDP model protocol v1"
    LABEL_STUDIO = "label_studio", "Label Studio ML backend"


class CircuitState(models.TextChoices):
    CLOSED = "closed", "Closed (calls flow)"
    OPEN = "open", "Open (calls paused)"
    HALF_OPEN = "half_open", "Half-open (one probe batch)"


class ModelEndpoint(OrganizationOwnedModel):
    """A team's model server the platform calls (docs/model-endpoints.md). The auth header secret is stored
    encrypted (Fernet, `TDP_ENDPOINT_SECRET_KEYS`) and never leaves the server: no API answer, page, log line, audit
    record or export carries it."""

    name = models.CharField(max_length=200)
    url = models.CharField(max_length=2048, help_text="Base URL: /health, /setup and /predict are called under it.")
    kind = models.CharField(max_length=12, choices=EndpointKind.choices, default=EndpointKind.DETECTOR)
    protocol = models.CharField(max_length=16, choices=EndpointProtocol.choices, default=EndpointProtocol.TDP)
    ontology = models.ForeignKey(
        "ontologies.Ontology", null=True, blank=True, on_delete=models.PROTECT, related_name="model_endpoints"
    )
    class_map = models.JSONField(default=dict, blank=True, help_text="The model's class names → feature names.")
    secret_header = models.CharField(max_length=100, default="Authorization")
    secret_encrypted = models.TextField(blank=True, editable=False)
    timeout_seconds = models.FloatField(default=10.0)
    batch_size = models.PositiveIntegerField(default=32)
    max_concurrency = models.PositiveIntegerField(default=4)
    # The model whose runs (one per reported model version) hold this endpoint's predictions.
    model = models.ForeignKey(Model, null=True, blank=True, on_delete=models.SET_NULL, related_name="endpoints")
    model_version = models.CharField(max_length=200, blank=True, help_text="The last version the server reported.")
    circuit = models.CharField(max_length=10, choices=CircuitState.choices, default=CircuitState.CLOSED)
    consecutive_failures = models.PositiveIntegerField(default=0)
    opened_until = models.DateTimeField(null=True, blank=True)
    # One dispatcher per endpoint at a time (its calls are at most `max_concurrency` in flight).
    lease_until = models.DateTimeField(null=True, blank=True)
    last_check = models.JSONField(default=dict, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(OrganizationOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="model_endpoint_unique_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)


class EndpointRowStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    SENT = "sent", "Sent"
    ANSWERED = "answered", "Answered"
    FAILED = "failed", "Failed"


class EndpointRow(models.Model):
    """One row of a project to pre-label through an endpoint: sent at most once per model version (the unique key
    holds one state per row; an answered row is not sent again unless asked)."""

    id = models.BigAutoField(primary_key=True)
    endpoint = models.ForeignKey(ModelEndpoint, on_delete=models.CASCADE, related_name="rows")
    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="+")
    data_row = models.ForeignKey("datasets.DataRow", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=EndpointRowStatus.choices, default=EndpointRowStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    model_version = models.CharField(max_length=200, blank=True)
    annotations = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "project", "data_row"], name="endpoint_row_unique"),
        ]
        indexes = [models.Index(fields=["endpoint", "status", "next_attempt_at"], name="endpoint_row_due")]

    def __str__(self) -> str:
        return f"{self.data_row_id} via {self.endpoint_id} ({self.status})"


class RetrainStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    TRAINING = "training", "Training (asynchronous, followed)"
    OK = "ok", "Called"
    FAILED = "failed", "Failed"


class RetrainCall(models.Model):
    """One call of an endpoint's training URL for a project (after N new done labels or on demand): the snapshot
    run whose `training_data` export the call linked to, the done label count then, and what came of it."""

    id = models.BigAutoField(primary_key=True)
    endpoint = models.ForeignKey(ModelEndpoint, on_delete=models.CASCADE, related_name="retrain_calls")
    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="+")
    model_run = models.ForeignKey(ModelRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    trigger = models.CharField(max_length=10, help_text="auto (after N new done labels) or manual")
    label_count = models.PositiveIntegerField(help_text="Done labels of the project when the call was queued.")
    rows = models.PositiveIntegerField(default=0, help_text="Rows in the training-data snapshot.")
    status = models.CharField(max_length=10, choices=RetrainStatus.choices, default=RetrainStatus.QUEUED)
    error = models.TextField(blank=True)
    model_version = models.CharField(max_length=200, blank=True, help_text="The version the server reported.")
    ms = models.FloatField(null=True, blank=True)
    requested_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    called_at = models.DateTimeField(null=True, blank=True)
    # Asynchronous training (the call answered "started" with a job): followed by polls until done, failed or given up.
    job_id = models.CharField(max_length=200, blank=True, help_text="The training job the server reported.")
    status_path = models.CharField(max_length=500, blank=True, help_text="Where its status is polled (TDP).")
    job_status = models.CharField(max_length=50, blank=True, help_text="The job's last status, as the server said.")
    polls = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["project", "-id"], name="retrain_call_project"),
            models.Index(fields=["status", "next_poll_at"], name="retrain_call_due_poll"),
        ]

    def __str__(self) -> str:
        return f"retrain {self.project_id} via {self.endpoint_id} ({self.status})"
