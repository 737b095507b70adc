"""Small modules: no Python module in `apps/` over 600 lines, no JavaScript module in `static/` over 500 (vendored
libraries excepted). Split along the module's seams (docs/architecture.md, "Where does my change go")."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON_LIMIT = 600
JS_LIMIT = 500


def line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def too_long(paths: list[Path], limit: int, root: Path = ROOT) -> dict[str, int]:
    return {str(p.relative_to(root)): n for p in paths if (n := line_count(p)) > limit}


def python_modules() -> list[Path]:
    # Migrations are generated (and never edited by hand): not counted.
    return sorted(p for p in (ROOT / "apps").rglob("*.py") if "migrations" not in p.parts)


def js_modules() -> list[Path]:
    static = ROOT / "static"
    return sorted(
        p for ext in ("*.js", "*.mjs") for p in static.rglob(ext) if "vendor" not in p.relative_to(static).parts
    )


def test_python_modules_in_apps_stay_under_600_lines():
    modules = python_modules()
    assert len(modules) > 200  # the walk found the apps
    assert too_long(modules, PYTHON_LIMIT) == {}


def test_js_modules_in_static_stay_under_500_lines():
    modules = js_modules()
    assert modules  # the walk found the scripts
    assert too_long(modules, JS_LIMIT) == {}


def test_the_check_flags_a_long_module(tmp_path):
    short, long = tmp_path / "short.py", tmp_path / "long.py"
    short.write_text("x = 1\n" * PYTHON_LIMIT)
    long.write_text("x = 1\n" * (PYTHON_LIMIT + 1))
    assert too_long([short, long], PYTHON_LIMIT, root=tmp_path) == {"long.py": PYTHON_LIMIT + 1}
