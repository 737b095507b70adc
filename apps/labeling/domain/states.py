"""The task state machine. Every transition a service performs is checked here first."""

from __future__ import annotations

TO_LABEL = "to_label"
IN_PROGRESS = "in_progress"
IN_REVIEW = "in_review"
IN_REWORK = "in_rework"
DONE = "done"
SKIPPED = "skipped"
# A consensus slot whose label is in, waiting for the row's other slots before review/done.
AWAITING_CONSENSUS = "awaiting_consensus"

# transition name -> (states it may start from, state it ends in)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "claim": (frozenset({TO_LABEL, IN_REWORK}), IN_PROGRESS),
    "reclaim_expired": (frozenset({IN_PROGRESS}), IN_PROGRESS),
    "release": (frozenset({IN_PROGRESS}), TO_LABEL),
    "submit_for_review": (frozenset({IN_PROGRESS}), IN_REVIEW),
    "submit_done": (frozenset({IN_PROGRESS}), DONE),
    "submit_await_consensus": (frozenset({IN_PROGRESS}), AWAITING_CONSENSUS),
    "consensus_complete_review": (frozenset({AWAITING_CONSENSUS}), IN_REVIEW),
    "consensus_complete_done": (frozenset({AWAITING_CONSENSUS}), DONE),
    "skip": (frozenset({IN_PROGRESS}), SKIPPED),
    "edit": (frozenset({IN_REVIEW}), IN_REVIEW),
    "edit_awaiting": (frozenset({AWAITING_CONSENSUS}), AWAITING_CONSENSUS),
    "approve": (frozenset({IN_REVIEW}), DONE),
    "reject": (frozenset({IN_REVIEW, DONE}), IN_REWORK),
    "requeue": (frozenset({SKIPPED, DONE}), TO_LABEL),
}


class TransitionError(Exception):
    def __init__(self, transition: str, state: str) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[transition][0])) if transition in TRANSITIONS else "none"
        super().__init__(
            f"Cannot {transition.replace('_', ' ')} a task that is {state.replace('_', ' ')} (needs: {allowed})."
        )
        self.transition = transition
        self.state = state


def next_state(transition: str, state: str) -> str:
    """The state after `transition` from `state`, or TransitionError."""
    sources, target = TRANSITIONS[transition]
    if state not in sources:
        raise TransitionError(transition, state)
    return target


def review_sampled(task_id: str, sample_rate: float) -> bool:
    """Whether a submitted label needs review: a deterministic draw per task so retries agree."""
    if sample_rate >= 1:
        return True
    if sample_rate <= 0:
        return False
    digits = task_id.replace("-", "")[-8:]
    return int(digits, 16) / 0xFFFFFFFF < sample_rate
