"""The project's settings blocks (quality, review, routing, queue, lease) as labeled admin form fields with help
text. The fields only parse types; the values are checked by the one settings validator of the API
(`services.project_settings_check`), whose errors are shown next to their field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms

from apps.labeling.domain.project_settings import DEFAULTS, QUEUE_ORDERS, UNCERTAINTY_MEASURES


@dataclass(frozen=True)
class Setting:
    block: str
    key: str  # "weights.uncertainty" for a nested value
    label: str
    help: str
    kind: str  # fraction | int | bool | choice | id
    optional: bool = False  # blank means null
    choices: tuple[str, ...] = ()

    @property
    def field_name(self) -> str:
        return f"settings__{self.block}__{self.key.replace('.', '__')}"

    @property
    def path(self) -> str:
        return f"{self.block}.{self.key.split('.')[0]}"


BLOCKS: dict[str, tuple[str, str]] = {
    "quality": (
        "Quality: consensus and benchmarks",
        "Turn on consensus (several labelers per row) and benchmarks here.",
    ),
    "review": ("Review", "Which labels reviewers see and how rework returns."),
    "routing": ("Routing to experts", "Rows the model is unsure of go to an expert (needs pre-labels or a model)."),
    "queue": ("Queue order", "The order labelers get new work within a batch priority."),
    "lease": ("Leases", "How long a claimed task stays with its labeler, and how many one labeler may hold at once."),
    "model": (
        "Model endpoints",
        "Your model servers that pre-label and embed rows as they join the project, and retrain on its labels.",
    ),
}

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "quality",
        "consensus_coverage",
        "Consensus coverage",
        "Share of rows labeled by several labelers, 0 to 1 (0: consensus off; 0.1: one row in ten).",
        "fraction",
    ),
    Setting(
        "quality",
        "consensus_labelers",
        "Labelers per consensus row",
        "How many distinct labelers label a consensus row, 1 to 20 (2 or more for consensus).",
        "int",
    ),
    Setting(
        "quality",
        "benchmark_rate",
        "Benchmark rate",
        "Share of claims that serve a benchmark row, 0 to 1. Needs benchmark references "
        "(a label made the reference of its row).",
        "fraction",
    ),
    Setting(
        "quality",
        "point_sigma",
        "Point tolerance",
        "How far two points may be and still agree, as a fraction of the image size (above 0, at most 1).",
        "fraction",
    ),
    Setting(
        "quality",
        "consensus_threshold",
        "Consensus threshold",
        "Rows whose consensus score is under this go to review first (0 to 1; empty: no threshold).",
        "fraction",
        optional=True,
    ),
    Setting(
        "quality",
        "benchmark_threshold",
        "Benchmark threshold",
        "Labelers whose benchmark mean is under this are listed for the team manager (0 to 1; empty: none).",
        "fraction",
        optional=True,
    ),
    Setting(
        "review",
        "sample_rate",
        "Review sample rate",
        "Share of labels sent to review, 0 to 1 (1: every label).",
        "fraction",
    ),
    Setting(
        "review",
        "rework_wait_hours",
        "Rework wait (hours)",
        "Rejected work goes back to its labeler first; after this many hours anyone may take it (0: at once).",
        "int",
    ),
    Setting(
        "review",
        "allow_approve_with_open_issues",
        "Allow approving with open issues",
        "Reviewers may approve a label whose issues are still open.",
        "bool",
    ),
    Setting(
        "routing",
        "confidence_threshold",
        "Expert confidence threshold",
        "Rows whose model confidence is under this become expert tasks (0 to 1; empty: no routing).",
        "fraction",
        optional=True,
    ),
    Setting(
        "routing",
        "due_hours",
        "Expert due time (hours)",
        "An expert task is overdue after this many hours (at least 1).",
        "int",
    ),
    Setting(
        "queue",
        "order",
        "Order",
        "priority: oldest first; uncertainty: rows the model is least sure of first; "
        "diversity: rows far from the labeled ones (needs an embedding); mix: both.",
        "choice",
        choices=QUEUE_ORDERS,
    ),
    Setting(
        "queue",
        "uncertainty",
        "Uncertainty measure",
        "How the model's doubt is measured for the uncertainty order.",
        "choice",
        choices=UNCERTAINTY_MEASURES,
    ),
    Setting(
        "queue",
        "model_run",
        "Model run id",
        "The run whose predictions rank rows (empty: each row's latest run). Its id is on the model run page.",
        "id",
        optional=True,
    ),
    Setting(
        "queue",
        "embedding",
        "Embedding id",
        "The embedding space of the diversity order (its id is in Catalog › Embedding spaces).",
        "id",
        optional=True,
    ),
    Setting("queue", "weights.uncertainty", "Mix: weight of uncertainty", "For the mix order, 0 to 1.", "fraction"),
    Setting(
        "queue",
        "weights.diversity",
        "Mix: weight of diversity",
        "For the mix order, 0 to 1 (not both weights 0).",
        "fraction",
    ),
    Setting(
        "lease",
        "minutes",
        "Lease (minutes)",
        "A claimed task returns to the queue after this many minutes without a submit (1 to 1440).",
        "int",
    ),
    Setting(
        "lease",
        "max_per_labeler",
        "Open tasks per labeler",
        "How many tasks one labeler may hold at once, one per client that names itself in the claim (a script's "
        "workers, browser tabs); 1 to 32.",
        "int",
    ),
    Setting(
        "model",
        "prelabel_endpoint",
        "Pre-label endpoint id",
        "A detector or classifier endpoint (Models page): rows joining the project are sent to it.",
        "id",
        optional=True,
    ),
    Setting(
        "model",
        "embed_endpoint",
        "Embedding endpoint id",
        "An embedder endpoint: rows joining the project get its vectors in a catalog embedding space.",
        "id",
        optional=True,
    ),
    Setting(
        "model",
        "interactive_endpoint",
        "Interactive (assist) endpoint id",
        "An interactive endpoint: labelers click or drag a rough box and it suggests the object.",
        "id",
        optional=True,
    ),
    Setting(
        "model",
        "retrain_endpoint",
        "Retraining endpoint id",
        "An endpoint (not an embedder) whose training URL is called with the training-data snapshot.",
        "id",
        optional=True,
    ),
    Setting(
        "model",
        "retrain_after",
        "Retrain after N new done labels",
        "Call the training URL when this many done labels have accumulated since the last call (empty: on demand "
        "only).",
        "int",
        optional=True,
    ),
)


def _form_field(setting: Setting) -> forms.Field:
    common: dict[str, Any] = {"label": setting.label, "help_text": setting.help, "required": not setting.optional}
    if setting.kind == "fraction":
        return forms.FloatField(widget=forms.NumberInput(attrs={"step": "any", "min": 0, "max": 1}), **common)
    if setting.kind == "int":
        return forms.IntegerField(widget=forms.NumberInput(attrs={"min": 0}), **common)
    if setting.kind == "bool":
        return forms.BooleanField(label=setting.label, help_text=setting.help, required=False)
    if setting.kind == "choice":
        return forms.ChoiceField(choices=[(c, c) for c in setting.choices], **common)
    return forms.CharField(max_length=64, **common)


def settings_form_fields() -> dict[str, forms.Field]:
    return {s.field_name: _form_field(s) for s in SETTINGS}


def settings_fieldsets() -> list[tuple[str, dict[str, Any]]]:
    return [
        (
            title,
            {"fields": [s.field_name for s in SETTINGS if s.block == block], "description": description},
        )
        for block, (title, description) in BLOCKS.items()
    ]


def _get(values: dict[str, Any], setting: Setting) -> Any:
    block = values.get(setting.block, {})
    head, _, tail = setting.key.partition(".")
    value = block.get(head)
    return value.get(tail) if tail and isinstance(value, dict) else value


def settings_initial(settings: dict[str, Any] | None) -> dict[str, Any]:
    """Form initial values from stored settings (defaults where a value is missing)."""
    merged = {block: {**values, **(settings or {}).get(block, {})} for block, values in DEFAULTS.items()}
    return {s.field_name: _get(merged, s) for s in SETTINGS}


def settings_from_form(cleaned: dict[str, Any]) -> dict[str, Any]:
    """The settings blocks the form's fields hold (parsed types only; the validator checks the values)."""
    raw: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.field_name not in cleaned:
            continue
        value = cleaned[setting.field_name]
        if setting.optional and value in ("", None):
            value = None
        if setting.kind == "id" and isinstance(value, str):
            value = value.strip() or None
        block = raw.setdefault(setting.block, {})
        head, _, tail = setting.key.partition(".")
        if tail:
            block.setdefault(head, {})[tail] = value
        else:
            block[head] = value
    return raw


def field_names_for(path: str) -> list[str]:
    """The form fields an error path of the validator ("queue.weights") belongs to."""
    return [s.field_name for s in SETTINGS if s.path == path or f"{s.block}.{s.key}" == path]
