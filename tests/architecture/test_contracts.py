"""The import contracts of pyproject.toml ([tool.importlinter], docs/architecture.md "Contracts"): the tree keeps
them, and each one fails when a module breaks it (checked on a copy of `apps/` with one bad import added)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
NAMES = {contract["id"]: contract["name"] for contract in CONTRACTS}


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}  # the `apps` package of `cwd`, not of the repository
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def status_line(name: str, status: str) -> str:
    return f"{name} {status}"


def flat(text: str) -> str:
    """lint-imports wraps long contract names at 80 columns: compare without line breaks."""
    return " ".join(text.split())


def test_every_contract_of_the_architecture_is_configured():
    assert set(NAMES) == {"app-order", "inner-layers", "pure-domain", "no-cycles"}
    order = next(c for c in CONTRACTS if c["id"] == "app-order")
    assert order["layers"][0] == "imagery" and order["layers"][-1] == "core" and len(order["layers"]) == 15


def test_the_tree_keeps_every_contract():
    result = lint_imports(ROOT)
    out = flat(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in out
    for name in NAMES.values():
        assert status_line(name, "KEPT") in out


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A copy of the project's Python packages and contracts, to break on purpose."""
    root = tmp_path_factory.mktemp("tree")
    shutil.copytree(ROOT / "apps", root / "apps", ignore=shutil.ignore_patterns("__pycache__", "*.html", "*.js"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


# (contracts it breaks, module written or appended to, its code, what the report must name). The HTTP layer imports
# its services and selectors, so importing it from them also closes a cycle.
VIOLATIONS = [
    pytest.param(
        {"inner-layers", "no-cycles"},
        "apps/labeling/services/probe_http.py",
        "from apps.labeling.apis import label_body\n",
        "apps.labeling.services.probe_http -> apps.labeling.apis",
        id="a-service-imports-the-api",
    ),
    pytest.param(
        {"inner-layers", "no-cycles"},
        "apps/analytics/selectors/probe_views.py",
        "from apps.analytics import views\n",
        "apps.analytics.selectors.probe_views -> apps.analytics.views",
        id="a-selector-imports-views",
    ),
    pytest.param(
        {"app-order"},
        "apps/datasets/probe_later_app.py",
        "from apps.labeling.models import Project\n",
        "apps.datasets.probe_later_app -> apps.labeling.models",
        id="an-earlier-app-imports-a-later-one",
    ),
    pytest.param(
        {"pure-domain"},
        "apps/ontologies/domain/probe_django.py",
        "from django.db import models\n",
        "apps.ontologies.domain.probe_django -> django",
        id="domain-imports-django",
    ),
    pytest.param(
        {"no-cycles"},
        "apps/predictions/services/targets.py",
        "\n\ndef probe() -> None:\n    from apps.predictions.services import imports  # noqa: F401\n",
        ".targets -> .imports",
        id="a-cycle-inside-an-app",
    ),
]


@pytest.mark.parametrize(("broken", "module", "code", "reported"), VIOLATIONS)
def test_a_contract_fails_on_a_forbidden_import(tree, broken, module, code, reported):
    path = tree / module
    before = path.read_text() if path.exists() else None
    path.write_text((before or "") + code)
    try:
        result = lint_imports(tree)
    finally:
        if before is None:
            path.unlink()
        else:
            path.write_text(before)
    out = flat(result.stdout)
    assert result.returncode == 1, result.stdout + result.stderr
    for contract, name in NAMES.items():
        assert status_line(name, "BROKEN" if contract in broken else "KEPT") in out
    assert f"Contracts: {len(CONTRACTS) - len(broken)} kept, {len(broken)} broken." in out
    assert reported in result.stdout


def test_the_copy_itself_keeps_the_contracts(tree):
    """The violations above are the probes' alone: the untouched copy passes."""
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
