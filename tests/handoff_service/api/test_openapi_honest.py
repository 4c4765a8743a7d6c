"""The schema says what the service sends: one error shape, HEAD where GET is, Danish 4xx."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.utils.service import start


def test_every_error_response_is_the_one_danish_string_model(client: TestClient):
    spec = client.app.openapi()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert spec["components"]["schemas"]["ErrorOut"]["properties"]["detail"]["type"] == "string"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "503" in responses, (method, path)
            for status, response in responses.items():
                if int(status) < 400 or path == "/healthz":
                    continue
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, status)
            if "security" in operation:
                assert "401" in responses, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= set(responses), (method, path)


def test_head_is_answered_wherever_get_is_without_a_body(client: TestClient, admin_headers):
    conversation_id, young, _ = start(client)
    for path, headers in (
        ("/", {}),
        ("/counsellor", {}),
        ("/healthz", {}),
        ("/api/v1/service-status", {}),
        ("/api/v1/users", admin_headers),
        (f"/api/v1/conversations/{conversation_id}", young),
    ):
        get, head = client.get(path, headers=headers), client.head(path, headers=headers)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]
    assert client.head("/api/v1/conversations").status_code == 405  # POST only


def test_head_of_a_live_feed_ends_at_once_and_frees_its_place(client: TestClient):
    conversation_id, young, _ = start(client)
    for _ in range(10):  # more than a conversation's cap of open streams
        response = client.head(f"/api/v1/conversations/{conversation_id}/events", headers=young)
        assert response.status_code == 200 and response.content == b""
        assert response.headers["content-type"].startswith("text/event-stream")


def test_refusals_of_the_framework_itself_are_danish(client: TestClient, internal_headers):
    assert client.get("/findes-ikke").json() == {"detail": "Siden findes ikke."}
    assert client.get("/assets/findes-ikke.js").json() == {"detail": "Siden findes ikke."}
    not_allowed = client.delete("/api/v1/users")
    assert not_allowed.json() == {"detail": "Metoden er ikke tilladt her."}
    assert not_allowed.headers["allow"] == "GET, HEAD, POST"  # both routes of the path
    assert client.options("/api/v1/conversations/pickup").headers["allow"] == "POST"
    broken = client.post(
        "/api/v1/auth/login", content=b'{"username": ', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422 and broken.json() == {
        "detail": "Ugyldig JSON i forespørgslen."
    }
    unknown = client.get(
        "/internal/v1/conversations/00000000-0000-0000-0000-000000000000/queue",
        headers=internal_headers,
    )
    assert unknown.status_code == 404 and unknown.json() == {"detail": "Samtalen findes ikke."}
