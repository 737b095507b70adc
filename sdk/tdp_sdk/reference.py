"""The SDK's reference page, generated from the code: `python -m tdp_sdk.reference > docs/sdk-reference.md`.

Every area of `Client`, each public method with its signature, the API route it calls and the first paragraph of
its docstring. A test regenerates it and compares, so the page cannot drift from the code.
"""

from __future__ import annotations

import inspect
import sys

from tdp_sdk._http import ROUTES
from tdp_sdk.client import Client


def _routes_by_method() -> dict[str, list[str]]:
    by_name: dict[str, list[str]] = {}
    for (method, path), qualname in sorted(ROUTES.items(), key=lambda item: (item[1], item[0][1])):
        by_name.setdefault(qualname, []).append(f"`{method} {path}`")
    return by_name


def render() -> str:
    client = Client("http://127.0.0.1:8000", "reference")
    routes = _routes_by_method()
    lines = [
        "# TDP Python SDK reference",
        "",
        "Generated from the code by `python -m tdp_sdk.reference` (a test fails when this page is stale).",
        "Start with [the first 10 minutes](sdk.md).",
        "",
    ]
    doc = inspect.getdoc(Client) or ""
    lines += [doc, ""]
    for area, resource in vars(client).items():
        if area == "http":
            continue
        cls = type(resource)
        lines += [f"## `client.{area}`", ""]
        for name, function in inspect.getmembers(cls, inspect.isfunction):
            if name.startswith("_"):
                continue
            signature = (
                str(inspect.signature(function)).replace("(self, ", "(").replace("(self)", "()").replace("'", "")
            )
            lines.append(f"### `{area}.{name}{signature}`")
            called = routes.get(function.__qualname__)
            if called:
                lines.append("Calls " + ", ".join(called) + ".")
            summary = (inspect.getdoc(function) or "").split("\n\n")[0].replace("\n", " ")
            if summary:
                lines.append(summary)
            lines.append("")
    client.close()
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
