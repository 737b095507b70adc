"""Thirty days of demo work, replayed through the ordinary services under a simulated clock (see `load_demo`).

Three labelers with their own speed and care label the street scenes: first their benchmark rows, then the queue of
the main project (every label reviewed; a careless first answer is rejected with feedback and an issue, then fixed
in rework), and in the last two weeks every row of the consensus project. The reviewer works through the review queue
at the end of each day but the last, so some labels still wait for review; a few questions stay open as issues.
Everything is seeded: two fresh databases get the same labels.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from apps.accounts.models import User
from apps.core.demo import DemoClock
from apps.datasets.demo_scenes import Scene, Thing, ground_truth, scene_index, scene_spec, thing_annotation
from apps.datasets.models import DataRow
from apps.issues import services as issue_services
from apps.labeling import services as labeling_services
from apps.labeling.models import Label, Project, Task, TaskKind, TaskState
from apps.review import services as review_services

DAYS = 30
CONFUSABLE = {"car": "truck", "truck": "bus", "bus": "truck", "ambulance": "truck", "bicycle": "person"}


@dataclass(frozen=True)
class Labeler:
    username: str
    seconds_per_object: float
    sigma: float  # box edge noise, a fraction of the box size
    miss: float  # chance to miss a small object
    confuse: float  # chance to pick a neighbouring class
    slip: float  # chance that a main-project answer has a mistake the reviewer sends back
    per_day: int  # main-project labels on a working day


LABELERS = [
    Labeler("demo-labeler", 7.0, 0.015, 0.02, 0.01, 0.08, 3),
    Labeler("demo-labeler2", 9.5, 0.03, 0.05, 0.04, 0.15, 2),
    Labeler("demo-labeler3", 5.0, 0.07, 0.12, 0.09, 0.3, 3),
]


def rng_for(*parts: Any) -> random.Random:
    return random.Random(zlib.crc32("/".join(str(p) for p in parts).encode()))  # noqa: S311 - a simulation


def noisy_copy(scene: Scene, labeler: Labeler, salt: str) -> list[dict[str, Any]]:
    """What this labeler would draw for the scene: jittered boxes, missed small objects, some class mix-ups."""
    rng = rng_for(salt, scene.global_key, labeler.username)
    document: list[dict[str, Any]] = []
    for thing in scene.things:
        left, top, width, height = thing.box
        if width * height < 2500 and rng.random() < labeler.miss * 3:
            continue
        if rng.random() < labeler.miss:
            continue
        cls, attrs = thing.cls, dict(thing.attrs)
        if rng.random() < labeler.confuse and cls in CONFUSABLE:
            cls = CONFUSABLE[cls]
            attrs = {"kind": "sedan"} if cls == "car" else {"lights_on": "no"} if cls == "ambulance" else {}
        if cls == "car" and attrs.get("kind") == "taxi" and rng.random() < labeler.confuse * 2:
            attrs = {"kind": "sedan"}
        dx0, dx1 = (rng.gauss(0, labeler.sigma * width) for _ in range(2))
        dy0, dy1 = (rng.gauss(0, labeler.sigma * height) for _ in range(2))
        x0, y0 = max(0.0, left + dx0), max(0.0, top + dy0)
        x1, y1 = min(640.0, left + width + dx1), min(480.0, top + height + dy1)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        document.append(thing_annotation(Thing(cls, thing.box, attrs), (x0, y0, x1 - x0, y1 - y0)))
    exact = ground_truth(scene)
    for item in exact:
        if "line" in item:
            shift = rng.gauss(0, 2)
            document.append(
                {"name": "lane", "line": [{"x": p["x"], "y": round(p["y"] + shift, 1)} for p in item["line"]]}
            )
        elif "polygon" in item and rng.random() > labeler.miss * 2:
            document.append(item)
        elif item["name"] == "weather":
            wrong = rng.random() < labeler.confuse
            document.append({"name": "weather", "answer": {"name": "overcast" if wrong else scene.weather}})
        elif item["name"] in ("time_of_day", "tags"):
            document.append(item)
    return document


def with_slip(
    scene: Scene, labeler: Labeler, *, force: bool = False
) -> tuple[list[dict[str, Any]], str, dict[str, float] | None] | None:
    """A careless first answer (or None): the smallest object left out, or a taxi called a sedan. `force`: always."""
    rng = rng_for("slip", scene.global_key, labeler.username)
    if (rng.random() >= labeler.slip and not force) or not scene.things:
        return None
    document = ground_truth(scene)
    taxis = [n for n, t in enumerate(scene.things) if t.attrs.get("kind") == "taxi"]
    if taxis and rng.random() < 0.4:
        n = taxis[0]
        document[n] = thing_annotation(Thing("car", scene.things[n].box, {"kind": "sedan"}))
        left, top, width, height = scene.things[n].box
        return document, "The yellow car with the roof sign is a taxi, not a sedan.", None
    n = min(range(len(scene.things)), key=lambda k: scene.things[k].box[2] * scene.things[k].box[3])
    thing = scene.things[n]
    del document[n]
    left, top, width, height = thing.box
    where = {"x": round(left + width / 2, 1), "y": round(top + height / 2, 1)}
    return document, f"A {thing.cls} is not boxed (pinned on the image). Small ones far away count too.", where


class History:
    def __init__(self, organization: Any, main: Project, consensus: Project | None) -> None:
        self.main, self.consensus = main, consensus
        users = {u.username: u for u in User.objects.filter(organization=organization)}
        self.users = users
        self.labelers = [(profile, users[profile.username]) for profile in LABELERS if profile.username in users]
        self.reviewer = users.get("demo-reviewer")
        self.manager = users.get("demo-manager")
        self.keys = dict(DataRow.objects.filter(organization=organization).values_list("id", "global_key"))
        self.scenes: dict[str, Scene] = {}
        self.slips: dict[Any, tuple[str, dict[str, float] | None]] = {}
        self.today = timezone.localdate()
        self.clock = DemoClock(timezone.now())
        self.resolving: list[Any] = []  # issues of rejected labels, resolved when the fixed label is reviewed
        self.slipped = False

    def scene(self, data_row_id: Any) -> Scene:
        key = self.keys[data_row_id]
        if key not in self.scenes:
            index = scene_index(key)
            assert index is not None, key
            self.scenes[key] = scene_spec(index)
        return self.scenes[key]

    def moment(self, day: date, hour: float) -> datetime:
        start = datetime.combine(day, time(0), tzinfo=timezone.get_current_timezone())
        return start + timedelta(hours=hour)

    def seconds(self, profile: Labeler, scene: Scene, salt: str) -> float:
        rng = rng_for("seconds", salt, scene.global_key, profile.username)
        work = 20 + profile.seconds_per_object * (len(scene.things) + 3)
        return round(work * rng.uniform(0.7, 1.5), 1)

    # --- the main project ---------------------------------------------------------------------------------------

    def label_main(self, profile: Labeler, user: User, count: int) -> None:
        for _ in range(count):
            task = labeling_services.queue_claim(actor=user, project=self.main)
            if task is None:
                return
            scene = self.scene(task.data_row_id)
            self.clock.advance(rng_for("think", scene.global_key, profile.username).uniform(5, 40))
            reworked = task.state == TaskState.IN_PROGRESS and Label.objects.filter(task=task).exists()
            if task.kind == TaskKind.BENCHMARK:
                document = noisy_copy(scene, profile, "benchmark")
            elif not reworked and (slip := with_slip(scene, profile, force=self.first_slip(profile))) is not None:
                document, feedback, where = slip
                self.slips[task.pk] = (feedback, where)
            elif task.kind == TaskKind.CONSENSUS:  # the consensus sample: each labeler's own hand shows
                document = noisy_copy(scene, profile, "main-consensus")
            else:
                document = ground_truth(scene)
            seconds = self.seconds(profile, scene, "rework" if reworked else "main") * (0.4 if reworked else 1)
            self.clock.advance(seconds)
            labeling_services.label_submit(actor=user, task=task, annotations=document, seconds_spent=seconds)

    def first_slip(self, profile: Labeler) -> bool:
        """The least careful labeler's first answer always has a mistake (so even a small demo shows rework)."""
        first = not self.slipped and profile.slip == max(p.slip for p, _ in self.labelers)
        self.slipped = True if first else self.slipped
        return first

    def review_all(self, day: date) -> None:
        if self.reviewer is None:
            return
        self.clock.at(self.moment(day, 17.0))
        while (task := review_services.review_claim(actor=self.reviewer, project=self.main)) is not None:
            label = Label.objects.get(task=task, is_current=True)
            scene = self.scene(task.data_row_id)
            rng = rng_for("review", scene.global_key, label.revision)
            seconds = round(rng.uniform(8, 30) + 1.5 * len(scene.things), 1)
            self.clock.advance(seconds)
            slip = self.slips.pop(task.pk, None)
            self.resolve_issues(task, label)
            if slip is not None:
                feedback, where = slip
                review_services.review_decide(
                    actor=self.reviewer, label=label, decision="reject", feedback=feedback, seconds_spent=seconds
                )
                issue = issue_services.issue_create(
                    actor=self.reviewer,
                    project=self.main,
                    task=task,
                    label=label,
                    data_row=task.data_row,
                    text=f"@{label.labeler.username} {feedback}",
                    position=where,
                )
                self.resolving.append(issue)
            elif rng.random() < 0.06 and scene.things:
                document = ground_truth(scene)
                box = dict(document[0]["bbox"])
                box["width"] = round(box["width"] + 1.5, 1)
                document[0] = {**document[0], "bbox": box}
                review_services.review_decide(
                    actor=self.reviewer, label=label, decision="approve", annotations=document, seconds_spent=seconds
                )
            else:
                review_services.review_decide(
                    actor=self.reviewer, label=label, decision="approve", seconds_spent=seconds
                )

    def resolve_issues(self, task: Task, label: Label) -> None:
        """The issue of a reworked label: the labeler answers it, the reviewer resolves it before approving."""
        if self.reviewer is None:
            return
        for issue in [i for i in self.resolving if i.task_id == task.pk]:
            issue_services.comment_create(actor=label.labeler, issue=issue, text="Fixed in the new revision, thanks.")
            self.clock.advance(40)
            issue_services.issue_resolve(actor=self.reviewer, issue=issue)
            self.resolving.remove(issue)

    # --- the consensus project ------------------------------------------------------------------------------------

    def label_consensus(self, profile: Labeler, user: User, count: int) -> None:
        if self.consensus is None:
            return
        for _ in range(count):
            task = labeling_services.queue_claim(actor=user, project=self.consensus)
            if task is None:
                return
            scene = self.scene(task.data_row_id)
            seconds = self.seconds(profile, scene, "consensus")
            self.clock.advance(seconds + 10)
            labeling_services.label_submit(
                actor=user, task=task, annotations=noisy_copy(scene, profile, "consensus"), seconds_spent=seconds
            )

    # --- the month ------------------------------------------------------------------------------------------------

    def open_questions(self, day: date) -> None:
        """Questions labelers ask on their fresh labels, left open for the demo users to answer."""
        questions = [
            ("demo-labeler3", "Is a parked bicycle without a rider still a bicycle box? @demo-reviewer"),
            ("demo-labeler2", "The van on the left has no cross visible: ambulance or truck? @demo-manager"),
            (
                "demo-labeler",
                "Two people overlap at the crossing; I boxed them separately, is that right? @demo-reviewer",
            ),
            (
                "demo-expert",
                "@demo-admin the far truck's box is loose on several east-cam rows; tighten the guideline?",
            ),
        ]
        self.clock.at(self.moment(day, 16.0))
        for username, text in questions:
            user = self.users.get(username)
            labeler = self.users.get("demo-labeler3") if username == "demo-expert" else user
            mine = Label.objects.filter(project=self.main, labeler=labeler, is_current=True).order_by("-created_at")
            label = mine.filter(task__state=TaskState.IN_REVIEW).first() or mine.first()
            if user is None or label is None:
                continue
            issue = issue_services.issue_create(
                actor=user, project=self.main, task=label.task, label=label, data_row=label.data_row, text=text
            )
            admin = self.users.get("demo-admin")
            if admin is not None and username == "demo-expert":  # a mention reaches only those who may open the issue
                self.clock.advance(1200)
                issue_services.comment_create(
                    actor=admin,
                    issue=issue,
                    text="@demo-expert agreed: which rows? I'll add a line to the instructions.",
                )
            if self.manager is not None and username == "demo-labeler2":
                self.clock.advance(900)
                issue_services.comment_create(
                    actor=self.manager, issue=issue, text="Good question: look for the light bar on the roof."
                )

    def run(self) -> None:
        days = [self.today - timedelta(days=offset) for offset in range(DAYS, 0, -1)]
        days = [day for day in days if day.weekday() < 5]
        # About half of the main project gets labeled over the month (the rest is left for the demo users), at each
        # labeler's own pace.
        rows = Task.objects.filter(project=self.main, slot=0).exclude(state=TaskState.DONE).count()
        scale = 0.5 * rows / max(1, len(days) * sum(p.per_day for p, _ in self.labelers))
        owed = [0.0 for _ in self.labelers]
        with self.clock:
            for number, day in enumerate(days):
                left = len(days) - number  # working days left, this one included
                for n, (profile, user) in enumerate(self.labelers):
                    self.clock.at(self.moment(day, 9.0 + n * 0.7))
                    owed[n] += profile.per_day * scale
                    count = int(owed[n] + (0.5 if left == 1 else 0))  # everyone labels something on the last day
                    owed[n] -= count
                    self.label_main(profile, user, max(count, 1 if left == 1 else 0))
                    if left <= 10:
                        self.clock.at(self.moment(day, 13.5 + n * 0.5))
                        self.label_consensus(profile, user, 4)
                if left > 1:
                    self.review_all(day)
                else:
                    self.open_questions(day)
