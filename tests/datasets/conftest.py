"""Fixtures of the datasets tests: datasets, metadata fields, import helpers and a moto S3/STS server process."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from rest_framework.test import APIClient

from apps.accounts.models import Organization, User
from apps.datasets import services
from apps.datasets.models import Dataset

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def manager(users_by_role: dict[str, User]) -> User:
    return users_by_role["team_manager"]


@pytest.fixture
def manager_client(client_for, manager: User) -> APIClient:
    return client_for(manager)


@pytest.fixture
def dataset(manager: User) -> Dataset:
    return services.dataset_create(actor=manager, name="street scenes")


@pytest.fixture
def metadata_fields(manager: User) -> None:
    services.metadata_field_create(actor=manager, name="camera", kind="string")
    services.metadata_field_create(actor=manager, name="score", kind="number")
    services.metadata_field_create(actor=manager, name="captured_at", kind="datetime")
    services.metadata_field_create(actor=manager, name="weather", kind="enum", options=["sunny", "rain"])


@pytest.fixture
def other_dataset(other_org: Organization) -> Dataset:
    admin = User.objects.get(organization=other_org, role="admin")
    return services.dataset_create(actor=admin, name="their data")


def ndjson(rows: list[Any]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


@pytest.fixture
def post_rows() -> Callable[..., Any]:
    def post(client: APIClient, dataset: Dataset, body: bytes | str, content_type: str = "application/x-ndjson"):
        if isinstance(body, str):
            body = body.encode()
        return client.generic("POST", f"/api/v1/datasets/{dataset.id}/data_rows", body, content_type=content_type)

    return post


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A real moto S3/STS server process on loopback; yields its endpoint URL."""
    port = _free_port()
    binary = ROOT / ".venv" / "bin" / "moto_server"
    process = subprocess.Popen(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{endpoint}/moto-api/", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, moto_server: str, settings) -> str:
    """Server-side AWS credentials for STS calls, and the moto endpoint allowed as an outbound host."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = [moto_server.removeprefix("http://")]
    return moto_server
