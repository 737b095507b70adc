"""What every resource shares: the HTTP core and small helpers to build query strings and bodies."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

from tdp_sdk._http import Http


def body(**fields: Any) -> dict[str, Any]:
    """A JSON body of the fields that were given (None means: not sent)."""
    return {key: value for key, value in fields.items() if value is not None}


def metadata_params(metadata: dict[str, Any] | None) -> dict[str, Any]:
    """`{"sensor": "A"}` → `{"metadata.sensor": "A"}`, the API's metadata filter parameters."""
    return {f"metadata.{key}": value for key, value in (metadata or {}).items()}


class Resource:
    def __init__(self, http: Http) -> None:
        self._http = http


def write_stream(response: httpx.Response, target: Path) -> None:
    """Write a streamed answer to `target` in chunks, through a `.part` file renamed when complete."""
    partial = target.with_name(target.name + ".part")
    with partial.open("wb") as out:
        for chunk in response.iter_bytes(1 << 20):
            out.write(chunk)
    partial.replace(target)


def upload(http: Http, url: str, paths: Iterable[str | os.PathLike[str]], form: dict[str, Any] | None = None) -> Any:
    """POST local files as multipart `files` (their names kept) and await the answer's job if it is one."""
    handles = [open(p, "rb") for p in paths]  # noqa: SIM115 - closed below
    try:
        files = [("files", (Path(h.name).name, h)) for h in handles]
        return http.result_or_job(http.send("POST", url, files=files, form=form or None), wait=True)
    finally:
        for handle in handles:
            handle.close()
