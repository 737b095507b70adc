"""Organizations, the caller, users and API tokens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tdp_sdk._http import route
from tdp_sdk.resources._base import Resource, body


class Accounts(Resource):
    @route("POST", "/auth/token")
    def token(self, username: str, password: str) -> str:
        """Exchange a username and password for an API token (the client does not keep it: see `Client.login`)."""
        return str(
            self._http.json("POST", "/auth/token", json_body={"username": username, "password": password})["token"]
        )

    @route("GET", "/me")
    def me(self) -> dict[str, Any]:
        return self._http.json("GET", "/me")

    @route("POST", "/organizations")
    def create_organization(self, name: str, admin: dict[str, str]) -> dict[str, Any]:
        """Platform superusers only: `admin` is `{"username","password","email"}`."""
        return self._http.json("POST", "/organizations", json_body={"name": name, "admin": admin})

    @route("GET", "/users")
    def users(self) -> Iterator[dict[str, Any]]:
        return self._http.pages("/users")

    @route("POST", "/users")
    def create_user(self, username: str, password: str, role: str, email: str | None = None) -> dict[str, Any]:
        return self._http.json(
            "POST", "/users", json_body=body(username=username, password=password, role=role, email=email)
        )

    @route("GET", "/users/{user_id}")
    def user(self, user_id: str) -> dict[str, Any]:
        return self._http.json("GET", f"/users/{user_id}")

    @route("PATCH", "/users/{user_id}")
    def update_user(self, user_id: str, *, role: str | None = None, is_active: bool | None = None) -> dict[str, Any]:
        return self._http.json("PATCH", f"/users/{user_id}", json_body=body(role=role, is_active=is_active))

    @route("GET", "/tokens")
    def tokens(self) -> Iterator[dict[str, Any]]:
        return self._http.pages("/tokens")

    @route("POST", "/tokens")
    def create_token(self, name: str, **fields: Any) -> dict[str, Any]:
        return self._http.json("POST", "/tokens", json_body={"name": name, **fields})

    @route("DELETE", "/tokens/{token_id}")
    def revoke_token(self, token_id: str) -> None:
        self._http.json("DELETE", f"/tokens/{token_id}")

    @route("GET", "/organization/tokens")
    def organization_tokens(self) -> Iterator[dict[str, Any]]:
        """Org admins: every token of the organization (never the secret)."""
        return self._http.pages("/organization/tokens")
