"""Referral codes and referrals over HTTP."""

from __future__ import annotations

from tests.api.conftest import Api


def test_member_gets_a_code_and_a_friend_joins_with_it(api: Api) -> None:
    alice, bob = api.member("alice"), api.member("bob")
    own = api.member_key(alice["id"])
    code = api.request("GET", f"/members/{alice['id']}/referral-code", key=own).json()["code"]
    assert api.request("GET", f"/members/{bob['id']}/referral-code", key=own).status_code == 403
    made = api.request(
        "POST", "/referrals", "staff", json={"referee_member_id": bob["id"], "code": code}
    )
    assert made.status_code == 201 and made.json()["status"] == "pending"
    again = api.request(
        "POST", "/referrals", "staff", json={"referee_member_id": bob["id"], "code": code}
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_referred"
    itself = api.request(
        "POST", "/referrals", "staff", json={"referee_member_id": alice["id"], "code": code}
    )
    assert itself.status_code == 422 and itself.json()["error"]["code"] == "self_referral"
    unknown = api.request(
        "POST", "/referrals", json={"referee_member_id": bob["id"], "code": "ZZZZZZZZ"}
    )
    assert unknown.status_code == 404
