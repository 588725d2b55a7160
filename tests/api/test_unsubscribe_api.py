"""The unsubscribe link over HTTP: no key needed, forged tokens are 404."""

from __future__ import annotations

from tests.api.conftest import Api

from patronage.config import get_settings
from patronage.domain.messages import sign_unsubscribe


def test_unsubscribe_link_withdraws_consent_without_a_key(api: Api) -> None:
    alice = api.member("a", email="a@example.com", consents={"email": True, "sms": True})
    token = sign_unsubscribe(get_settings().secret_key, int(str(alice["id"])), "email")
    for _ in range(2):  # opening the link twice changes nothing more
        response = api.request("GET", f"/unsubscribe/{token}", role=None)
        assert response.status_code == 200
        assert response.json() == {"channel": "email", "subscribed": False}
    member = api.request("GET", f"/members/{alice['id']}").json()
    assert member["consents"] == {"email": False, "sms": True}
    forged = token.replace(f"{alice['id']}.", "999.", 1)
    assert api.request("GET", f"/unsubscribe/{forged}", role=None).status_code == 404
    assert api.request("GET", "/unsubscribe/" + "x" * 200, role=None).status_code == 422
