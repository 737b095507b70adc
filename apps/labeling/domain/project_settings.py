"""Validation and defaults of a project's settings blocks (API.md: quality, review, routing, queue)."""

from __future__ import annotations

from typing import Any

from apps.core.domain.numbers import is_finite_number

DEFAULTS: dict[str, dict[str, Any]] = {
    "quality": {
        "consensus_coverage": 0.0,
        "consensus_labelers": 1,
        "benchmark_rate": 0.0,
        "point_sigma": 0.01,
        # Rows whose consensus score is under this go to review first; labelers whose benchmark mean is under this
        # are listed for the team manager. None: no threshold.
        "consensus_threshold": None,
        "benchmark_threshold": None,
    },
    "review": {"sample_rate": 1.0, "rework_wait_hours": 24, "allow_approve_with_open_issues": False},
    "routing": {"confidence_threshold": None, "due_hours": 48},
    # Active learning order of new work (within a batch priority): `priority` (age only), `uncertainty` (the rows
    # the model is least sure of first), `diversity` (rows far from the labeled ones in `embedding` first) or
    # `mix` (`weights` of both). `model_run`: the run whose predictions count (null: each row's latest run).
    "queue": {
        "order": "priority",
        "model_run": None,
        "embedding": None,
        "uncertainty": "least_confidence",
        "weights": {"uncertainty": 0.5, "diversity": 0.5},
    },
    # `max_per_labeler`: live leases one labeler may hold at once, each for a different `lease_key` of the claim (a
    # scripted labeler's workers, browser tabs); claims past it get the labeler's oldest live lease back.
    "lease": {"minutes": 30, "max_per_labeler": 4},
    # Model endpoints (predictions app): the detector or classifier that pre-labels rows as they join, the embedder
    # that fills a catalog embedding space with their vectors; the endpoint whose training URL is called after
    # `retrain_after` new done labels (null: only on demand).
    "model": {
        "prelabel_endpoint": None,
        "embed_endpoint": None,
        "interactive_endpoint": None,
        "retrain_endpoint": None,
        "retrain_after": None,
    },
}
QUEUE_ORDERS = ("priority", "uncertainty", "diversity", "mix")
UNCERTAINTY_MEASURES = ("least_confidence", "entropy")


def _fraction(value: Any) -> bool:
    return is_finite_number(value) and 0 <= value <= 1


def _positive_int(value: Any, maximum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= maximum


def _queue_weights(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"uncertainty", "diversity"}
        and all(_fraction(w) for w in value.values())
        and sum(value.values()) > 0
    )


def _queue_errors(queue: dict[str, Any]) -> dict[str, list[str]]:
    """Across fields: an order using an embedding space needs one."""
    order = queue.get("order")
    needs_space = order == "diversity" or (order == "mix" and (queue.get("weights") or {}).get("diversity", 0) > 0)
    if needs_space and not queue.get("embedding"):
        return {"queue.embedding": [f"Required by the {order!r} order (an embedding id)."]}
    return {}


# block -> field -> (check, message)
_RULES: dict[str, dict[str, tuple[Any, str]]] = {
    "quality": {
        "consensus_coverage": (_fraction, "a number from 0 to 1"),
        "consensus_labelers": (lambda v: _positive_int(v, 20), "an integer from 1 to 20"),
        "benchmark_rate": (_fraction, "a number from 0 to 1"),
        "point_sigma": (lambda v: _fraction(v) and v > 0, "a number above 0 and at most 1"),
        "consensus_threshold": (lambda v: v is None or _fraction(v), "null or a number from 0 to 1"),
        "benchmark_threshold": (lambda v: v is None or _fraction(v), "null or a number from 0 to 1"),
    },
    "review": {
        "sample_rate": (_fraction, "a number from 0 to 1"),
        "rework_wait_hours": (lambda v: _positive_int(v, 24 * 365) or v == 0, "an integer of hours from 0"),
        "allow_approve_with_open_issues": (lambda v: isinstance(v, bool), "true or false"),
    },
    "routing": {
        "confidence_threshold": (lambda v: v is None or _fraction(v), "null or a number from 0 to 1"),
        "due_hours": (lambda v: _positive_int(v, 24 * 365), "an integer of hours from 1"),
    },
    "queue": {
        "order": (lambda v: v in QUEUE_ORDERS, f"one of {', '.join(QUEUE_ORDERS)}"),
        "model_run": (lambda v: v is None or isinstance(v, str), "null or a model run id"),
        "embedding": (lambda v: v is None or isinstance(v, str), "null or an embedding id"),
        "uncertainty": (lambda v: v in UNCERTAINTY_MEASURES, f"one of {', '.join(UNCERTAINTY_MEASURES)}"),
        "weights": (
            lambda v: _queue_weights(v),
            'an object {"uncertainty": w, "diversity": w} of numbers from 0 to 1, not both 0',
        ),
    },
    "lease": {
        "minutes": (lambda v: _positive_int(v, 24 * 60), "an integer of minutes from 1 to 1440"),
        "max_per_labeler": (lambda v: _positive_int(v, 32), "an integer from 1 to 32"),
    },
    "model": {
        "prelabel_endpoint": (lambda v: v is None or isinstance(v, str), "null or a model endpoint id"),
        "embed_endpoint": (lambda v: v is None or isinstance(v, str), "null or a model endpoint id"),
        "interactive_endpoint": (lambda v: v is None or isinstance(v, str), "null or a model endpoint id"),
        "retrain_endpoint": (lambda v: v is None or isinstance(v, str), "null or a model endpoint id"),
        "retrain_after": (lambda v: v is None or _positive_int(v, 1_000_000), "null or an integer from 1 to 1000000"),
    },
}


def normalize_settings(raw: Any, current: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Merge `raw` (partial blocks allowed) over `current` (or the defaults); return (settings, errors by path)."""
    base = {block: dict(values) for block, values in DEFAULTS.items()}
    for block, values in (current or {}).items():
        if block in base and isinstance(values, dict):
            base[block].update(values)
    errors: dict[str, list[str]] = {}
    if raw is None:
        return base, errors
    if not isinstance(raw, dict):
        return base, {"settings": ["Must be an object of settings blocks."]}
    for block, values in raw.items():
        if block not in _RULES:
            errors[block] = [f"Unknown settings block; known: {', '.join(_RULES)}."]
            continue
        if not isinstance(values, dict):
            errors[block] = ["Must be an object."]
            continue
        for field, value in values.items():
            rule = _RULES[block].get(field)
            if rule is None:
                errors[f"{block}.{field}"] = ["Unknown setting."]
            elif not rule[0](value):
                errors[f"{block}.{field}"] = [f"Must be {rule[1]}."]
            else:
                base[block][field] = value
    if "queue" in raw and not errors:
        errors.update(_queue_errors(base["queue"]))
    return base, errors


BATCH_QUALITY_FIELDS = ("consensus_coverage", "consensus_labelers")


def normalize_batch_quality(raw: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A batch's overrides of the project's consensus settings: only the fields given, each checked like the
    project's own."""
    if raw is None:
        return {}, {}
    if not isinstance(raw, dict):
        return {}, {"quality": ["Must be an object."]}
    out: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field, value in raw.items():
        if field not in BATCH_QUALITY_FIELDS:
            errors[f"quality.{field}"] = [f"Unknown; a batch may override {', '.join(BATCH_QUALITY_FIELDS)}."]
            continue
        check, message = _RULES["quality"][field]
        if not check(value):
            errors[f"quality.{field}"] = [f"Must be {message}."]
        else:
            out[field] = value
    return out, errors
