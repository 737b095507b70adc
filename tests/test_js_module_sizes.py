"""House rule (GUIDE.md §7, issue 31): every JS module under static/ (vendored files aside) stays under 500 lines."""

from __future__ import annotations

from pathlib import Path

LIMIT = 500
STATIC = Path(__file__).resolve().parent.parent / "static"


def test_every_js_module_outside_vendor_is_at_most_500_lines() -> None:
    files = [p for p in STATIC.rglob("*.js") if "vendor" not in p.relative_to(STATIC).parts]
    assert files, "no JS found under static/"
    too_long = {
        str(p.relative_to(STATIC)): n for p in files if (n := len(p.read_text(encoding="utf-8").splitlines())) > LIMIT
    }
    assert too_long == {}, f"JS modules over {LIMIT} lines: {too_long}"
