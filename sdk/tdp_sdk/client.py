"""`Client`: the entry point. `Client("http://127.0.0.1:8000", token="...")` or `Client.login(url, user, password)`."""

from __future__ import annotations

import os
from typing import Any

import httpx

from tdp_sdk._http import Http
from tdp_sdk.resources.accounts import Accounts
from tdp_sdk.resources.admin import Audit, Jobs
from tdp_sdk.resources.catalog import Catalog
from tdp_sdk.resources.datasets import Datasets
from tdp_sdk.resources.exports import Exports
from tdp_sdk.resources.media import Media
from tdp_sdk.resources.model_endpoints import ModelEndpoints
from tdp_sdk.resources.models import Models, Quality
from tdp_sdk.resources.ontologies import Ontologies
from tdp_sdk.resources.projects import Issues, Projects
from tdp_sdk.resources.webhooks import Webhooks


class Client:
    """A TDP server. Areas: `accounts`, `ontologies`, `datasets`, `projects` (queue, labels, review), `issues`,
    `quality`, `models` (pre-labels, runs, predictions, metrics), `model_endpoints` (model servers the platform
    calls), `media` (video, large and DICOM images, geospatial rows), `catalog`, `webhooks`, `exports`, `jobs`,
    `audit`.

    Lists are lazy iterators that follow cursors; 202 jobs are awaited where a method says so; 429/503 answers are
    retried after their `Retry-After`; writes carry an `Idempotency-Key`; error answers raise `TDPError` subclasses
    carrying the API's `code`, `message` and `details`."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 120.0,
        max_retries: int = 5,
        transport: httpx.BaseTransport | None = None,
        **http_options: Any,
    ) -> None:
        url = url or os.environ.get("TDP_URL") or "http://127.0.0.1:8000"
        token = token or os.environ.get("TDP_TOKEN")
        self.http = Http(url, token, timeout=timeout, max_retries=max_retries, transport=transport, **http_options)
        self.accounts = Accounts(self.http)
        self.ontologies = Ontologies(self.http)
        self.datasets = Datasets(self.http)
        self.projects = Projects(self.http)
        self.issues = Issues(self.http)
        self.quality = Quality(self.http)
        self.models = Models(self.http)
        self.model_endpoints = ModelEndpoints(self.http)
        self.media = Media(self.http)
        self.catalog = Catalog(self.http)
        self.webhooks = Webhooks(self.http)
        self.exports = Exports(self.http)
        self.jobs = Jobs(self.http)
        self.audit = Audit(self.http)

    @classmethod
    def login(cls, url: str, username: str, password: str, **options: Any) -> Client:
        """A client authenticated with a token obtained from the username and password."""
        client = cls(url, None, **options)
        client.http.set_token(client.accounts.token(username, password))
        return client

    @property
    def url(self) -> str:
        return self.http.base_url

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
