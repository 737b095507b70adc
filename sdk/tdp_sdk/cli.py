"""`tdp`: the SDK from the shell. `tdp login`, `tdp import`, `tdp export`, `tdp jobs wait`, `tdp projects ls`, …

The server and token come from `--url`/`--token`, else `TDP_URL`/`TDP_TOKEN`, else the file `tdp login` wrote
(`$TDP_CONFIG` or `~/.config/tdp/config.json`, readable by its owner only). `--json` prints machine-readable output.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from tdp_sdk.client import Client
from tdp_sdk.errors import TDPError


def config_path() -> Path:
    return Path(os.environ.get("TDP_CONFIG") or Path.home() / ".config" / "tdp" / "config.json")


def load_config() -> dict[str, str]:
    try:
        return json.loads(config_path().read_text())
    except (OSError, ValueError):
        return {}


def save_config(values: dict[str, str]) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(values, handle)
    os.chmod(path, 0o600)
    return path


class Progress:
    """A one-line progress bar on stderr (nothing when stderr is not a terminal and `force` is off)."""

    def __init__(self, label: str, *, unit: str = "", stream: TextIO | None = None, force: bool = False) -> None:
        self.label, self.unit = label, unit
        self.stream = stream or sys.stderr
        self.enabled = force or self.stream.isatty()
        self.started = time.monotonic()
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and done < total):
            return
        self._last = now
        rate = done / max(now - self.started, 1e-6)
        if total:
            filled = int(30 * min(done / total, 1.0))
            bar = "#" * filled + "-" * (30 - filled)
            text = f"\r{self.label} [{bar}] {100 * done / total:5.1f}% {_human(done)}/{_human(total)}{self.unit}"
        else:
            text = f"\r{self.label} {_human(done)}{self.unit}"
        self.stream.write(f"{text} {_human(rate)}{self.unit}/s ")
        self.stream.flush()

    def job(self, job: dict[str, Any]) -> None:
        progress = job.get("progress") or {}
        self(int(progress.get("done") or 0), int(progress.get("total") or 0))

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _human(value: float) -> str:
    for unit in ("", "k", "M", "G"):
        if abs(value) < 1000:
            return f"{value:.0f}{unit}" if unit == "" else f"{value:.1f}{unit}"
        value /= 1000
    return f"{value:.1f}T"


def _client(args: argparse.Namespace) -> Client:
    config = load_config()
    url = args.url or os.environ.get("TDP_URL") or config.get("url") or "http://127.0.0.1:8000"
    token = args.token or os.environ.get("TDP_TOKEN") or config.get("token")
    if not token:
        raise SystemExit("No token: run `tdp login` or set TDP_TOKEN.")
    return Client(url, token)


def _print(args: argparse.Namespace, value: Any, columns: Iterable[str] = ()) -> None:
    """`--json`: JSON (a list as one JSON document); otherwise a table of `columns` or key: value lines."""
    if args.json:
        json.dump(value, sys.stdout, default=str)
        sys.stdout.write("\n")
        return
    if isinstance(value, list):
        columns = list(columns) or sorted({key for row in value for key in row})[:6]
        print("\t".join(columns))
        for row in value:
            print("\t".join(str(row.get(column, "")) for column in columns))
    elif isinstance(value, dict):
        for key, item in value.items():
            print(f"{key}: {json.dumps(item, default=str) if isinstance(item, (dict, list)) else item}")
    elif value is not None:
        print(value)


# -- commands ----------------------------------------------------------------------------------------------------


def cmd_login(args: argparse.Namespace) -> int:
    url = args.url or os.environ.get("TDP_URL") or "http://127.0.0.1:8000"
    username = args.username or input("Username: ")
    password = os.environ.get("TDP_PASSWORD") or getpass.getpass("Password: ")
    with Client(url) as client:
        token = client.accounts.token(username, password)
    path = save_config({"url": url, "token": token})
    _print(args, {"url": url, "username": username, "config": str(path)})
    return 0


def cmd_whoami(args: argparse.Namespace) -> int:
    with _client(args) as client:
        _print(args, client.accounts.me())
    return 0


def _lister(
    getter: Callable[[Client], Iterable[dict[str, Any]]], columns: list[str]
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        with _client(args) as client:
            _print(args, list(getter(client)), columns)
        return 0

    return run


def _parallel(value: str) -> int:
    number = int(value) if value.isdigit() else 0
    if not 1 <= number <= 8:
        raise argparse.ArgumentTypeError("an integer from 1 to 8")
    return number


def cmd_import(args: argparse.Namespace) -> int:
    with _client(args) as client:
        bar = Progress(f"import {Path(args.file).name}", unit="B", force=args.progress)
        try:
            result = client.datasets.import_file(args.dataset, args.file, progress=bar, parallel=args.parallel)
        finally:
            bar.close()
    errors = result.get("errors") or []
    summary = {key: result.get(key, 0) for key in ("created", "updated", "failed")}
    if args.json:
        _print(args, {**summary, "errors": errors})
    else:
        _print(args, summary)
        for error in errors[:20]:
            print(f"line {error.get('index')}: {error.get('global_key', '')} {error.get('message')}", file=sys.stderr)
        if len(errors) > 20:
            print(f"… and {len(errors) - 20} more (use --json for all)", file=sys.stderr)
    return 1 if errors and args.strict else 0


def cmd_export(args: argparse.Namespace) -> int:
    with _client(args) as client:
        if args.format == "ndjson" and not args.background:
            out = sys.stdout if args.output in (None, "-") else open(args.output, "w")  # noqa: SIM115
            bar = Progress("export", unit=" rows", force=args.progress)
            count = 0
            try:
                for row in client.exports.stream(args.project):
                    out.write(json.dumps(row, separators=(",", ":")) + "\n")
                    count += 1
                    bar(count, 0)
            finally:
                bar.close()
                if out is not sys.stdout:
                    out.close()
            if out is not sys.stdout:
                _print(args, {"rows": count, "file": args.output})
            return 0
        if not args.output:
            raise SystemExit("--output FILE is needed for this format")
        bar = Progress(f"export {args.format}", force=args.progress)
        try:
            path = client.exports.export_to_file(args.project, args.output, format=args.format, progress=bar.job)
        finally:
            bar.close()
        _print(args, {"file": str(path), "bytes": path.stat().st_size})
    return 0


def cmd_jobs_wait(args: argparse.Namespace) -> int:
    with _client(args) as client:
        bar = Progress(f"job {args.job}", force=args.progress)
        try:
            job = client.jobs.wait(args.job, progress=bar.job, timeout=args.timeout)
        finally:
            bar.close()
        _print(args, job)
    return 0


def cmd_jobs_show(args: argparse.Namespace) -> int:
    with _client(args) as client:
        _print(args, client.jobs.get(args.job))
    return 0


def cmd_project_overview(args: argparse.Namespace) -> int:
    with _client(args) as client:
        _print(args, client.projects.overview(args.project))
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    with _client(args) as client:
        _print(args, client.models.metrics(args.run, iou=args.iou, confidence=args.confidence))
    return 0


def cmd_predictions(args: argparse.Namespace) -> int:
    with _client(args) as client:
        bar = Progress("predictions", force=args.progress)
        try:
            result = client.models.import_predictions(args.run, Path(args.file).read_bytes(), progress=bar.job)
        finally:
            bar.close()
        _print(args, result)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tdp", description="TDP training data platform from the shell.")
    parser.add_argument("--url", help="server URL (default: TDP_URL, the login file, http://127.0.0.1:8000)")
    parser.add_argument("--token", help="API token (default: TDP_TOKEN or the login file)")
    parser.add_argument("--json", action="store_true", help="machine-readable JSON output")
    parser.add_argument("--progress", action="store_true", help="show progress bars even when stderr is not a TTY")
    commands = parser.add_subparsers(dest="command", required=True)

    login = commands.add_parser("login", help="get a token and keep it in the config file")
    login.add_argument("--username")
    login.set_defaults(run=cmd_login)
    commands.add_parser("whoami", help="the authenticated user").set_defaults(run=cmd_whoami)

    listings: dict[str, tuple[Callable[[Client], Iterable[dict[str, Any]]], list[str]]] = {
        "projects": (lambda c: c.projects.list(), ["id", "name", "media_type"]),
        "datasets": (lambda c: c.datasets.list(), ["id", "name"]),
        "ontologies": (lambda c: c.ontologies.list(), ["id", "name", "version"]),
        "models": (lambda c: c.models.list(), ["id", "name"]),
        "webhooks": (lambda c: c.webhooks.list(), ["id", "url", "events"]),
    }
    for name, (getter, columns) in listings.items():
        group = commands.add_parser(name, help=f"{name}: ls")
        sub = group.add_subparsers(dest="action", required=True)
        sub.add_parser("ls", help=f"list {name}").set_defaults(run=_lister(getter, columns))
        if name == "projects":
            overview = sub.add_parser("overview", help="task counts per state")
            overview.add_argument("project")
            overview.set_defaults(run=cmd_project_overview)

    imp = commands.add_parser("import", help="import an NDJSON / JSON / CSV file of data rows (streamed)")
    imp.add_argument("dataset")
    imp.add_argument("file")
    imp.add_argument("--strict", action="store_true", help="exit 1 when any row was refused")
    imp.add_argument(
        "--parallel",
        type=_parallel,
        default=2,
        help="NDJSON files of 8 MB or more are cut at line ends into this many parts sent side by side (default 2; "
        "1: one request, which also reports a global_key repeated in the file as an error)",
    )
    imp.set_defaults(run=cmd_import)

    exp = commands.add_parser("export", help="export a project (NDJSON streamed, or a COCO/YOLO/VOC file)")
    exp.add_argument("project")
    exp.add_argument("--format", default="ndjson", choices=["ndjson", "coco", "yolo", "voc"])
    exp.add_argument("--output", "-o", help="file to write (NDJSON: default stdout)")
    exp.add_argument("--background", action="store_true", help="NDJSON through a background export job")
    exp.set_defaults(run=cmd_export)

    jobs = commands.add_parser("jobs", help="background jobs")
    jobs_sub = jobs.add_subparsers(dest="action", required=True)
    wait = jobs_sub.add_parser("wait", help="wait for a job to end")
    wait.add_argument("job")
    wait.add_argument("--timeout", type=float)
    wait.set_defaults(run=cmd_jobs_wait)
    show = jobs_sub.add_parser("show", help="a job's state")
    show.add_argument("job")
    show.set_defaults(run=cmd_jobs_show)

    runs = commands.add_parser("runs", help="model runs")
    runs_sub = runs.add_subparsers(dest="action", required=True)
    metrics = runs_sub.add_parser("metrics", help="a run's metrics")
    metrics.add_argument("run")
    metrics.add_argument("--iou", type=float)
    metrics.add_argument("--confidence", type=float)
    metrics.set_defaults(run=cmd_metrics)
    predictions = runs_sub.add_parser("predictions", help="upload an NDJSON file of predictions")
    predictions.add_argument("run")
    predictions.add_argument("file")
    predictions.set_defaults(run=cmd_predictions)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except TDPError as error:
        if args.json:
            json.dump({"error": {"code": error.code, "message": error.message, "details": error.details}}, sys.stderr)
            sys.stderr.write("\n")
        else:
            print(f"tdp: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
