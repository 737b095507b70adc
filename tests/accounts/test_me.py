import pytest

pytestmark = pytest.mark.django_db


def test_me_returns_the_caller_with_organization_and_role(org, make_user, client_for):
    user = make_user(role="reviewer", organization=org, username="rita")
    response = client_for(user).get("/api/v1/me")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "rita"
    assert body["role"] == "reviewer"
    assert body["organization"] == {"id": str(org.id), "name": "Acme"}


def test_me_without_credentials_is_401_in_the_error_shape(api_client):
    response = api_client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
