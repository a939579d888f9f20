"""Login, bearer tokens (hashed, expiring, revocable), throttling, and what is never logged."""

from __future__ import annotations

import logging
import statistics
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from fieldops.protocol import Paths
from fieldops.server.schema import Token
from fieldops.server.settings import Settings
from tests.server.conftest import RunningServer, serving
from tests.server.helpers import PASSWORDS, Api, Device, FakeClock, asset, only


def test_login_gives_a_token_that_is_stored_only_as_a_hash(server: RunningServer) -> None:
    answer = server.api().login("tom", device="laptop-7")
    assert answer.status_code == 200
    body = answer.json()
    token = body["token"]
    assert body["token_type"] == "bearer"
    assert body["user"] == {
        "name": "tom",
        "role": "technician",
        "sites": ["HQ-DC1"],
        "disabled": False,
    }
    assert body["epoch"]
    with server.services.factory() as session:
        stored = session.scalars(select(Token)).all()
        assert (
            len(stored) == 1 and stored[0].token_hash != token and token not in stored[0].token_hash
        )
        for table in ("tokens", "users", "login_throttle"):
            dump = str(session.execute(text(f"SELECT * FROM {table}")).all())
            assert token not in dump and PASSWORDS["tom"] not in dump
    me = Api(server.url, token).get(Paths.ME)
    assert me.status_code == 200 and me.json()["name"] == "tom"


def test_user_names_ignore_case(server: RunningServer) -> None:
    assert server.api().login("TOM", PASSWORDS["tom"]).status_code == 200


@pytest.mark.parametrize(
    ("name", "password"), [("tom", "wrong-password"), ("nobody", "whatever-password")]
)
def test_wrong_logins_give_the_same_answer(server: RunningServer, name: str, password: str) -> None:
    answer = server.api().login(name, password)
    assert answer.status_code == 401
    assert answer.json() == {
        "code": "invalid_credentials",
        "message": "The user name or the password is wrong.",
    }


def test_requests_without_a_valid_token_are_refused(server: RunningServer) -> None:
    anonymous = server.api()
    assert anonymous.get(Paths.ME).json()["code"] == "unauthenticated"
    assert anonymous.get(Paths.ME).headers["WWW-Authenticate"] == "Bearer"
    forged = Api(server.url, "fo1_" + "x" * 43).get(Paths.ME)
    assert forged.status_code == 401 and forged.json()["code"] == "invalid_token"
    basic = anonymous.get(Paths.ME, headers={"Authorization": "Basic dG9tOnB3"})
    assert basic.status_code == 401


def test_token_expires(server: RunningServer) -> None:
    tom = server.api("tom")
    server.clock.advance(server.settings.token_ttl - timedelta(seconds=1))
    assert tom.get(Paths.ME).status_code == 200
    server.clock.advance(timedelta(seconds=2))
    expired = tom.get(Paths.ME)
    assert expired.status_code == 401 and expired.json()["code"] == "token_expired"


def test_logout_revokes_only_that_token(server: RunningServer) -> None:
    laptop, tablet = server.api("tom"), server.api("tom")
    assert laptop.post(Paths.LOGOUT).status_code == 204
    assert laptop.get(Paths.ME).json()["code"] == "invalid_token"
    assert tablet.get(Paths.ME).status_code == 200


def test_admin_revokes_every_token_of_a_user(server: RunningServer) -> None:
    laptop, tablet, ada = server.api("tom"), server.api("tom"), server.api("ada")
    answer = ada.post(Paths.USER_REVOKE.format(name="tom"))
    assert answer.status_code == 200 and answer.json() == {"revoked": 2}
    assert laptop.get(Paths.ME).status_code == 401 and tablet.get(Paths.ME).status_code == 401
    assert server.api().login("tom").status_code == 200  # logging in again still works


def test_disabling_a_user_ends_their_access(server: RunningServer) -> None:
    tom, ada = server.api("tom"), server.api("ada")
    answer = ada.call("PATCH", Paths.USER.format(name="tom"), json={"disabled": True})
    assert answer.status_code == 200 and answer.json()["disabled"] is True
    assert tom.get(Paths.ME).status_code == 401
    refused = server.api().login("tom")
    assert refused.status_code == 403 and refused.json()["code"] == "account_disabled"


def test_new_password_ends_old_tokens(server: RunningServer) -> None:
    tom, ada = server.api("tom"), server.api("ada")
    new = "a-brand-new-password"
    changed = ada.call("PATCH", Paths.USER.format(name="tom"), json={"password": new})
    assert changed.status_code == 200
    assert tom.get(Paths.ME).status_code == 401
    assert server.api().login("tom", PASSWORDS["tom"]).status_code == 401
    assert server.api().login("tom", new).status_code == 200


def test_failed_logins_are_throttled_per_user(server: RunningServer) -> None:
    anonymous = server.api()
    limit = server.settings.login_user_limit
    for _ in range(limit):
        assert anonymous.login("tom", "wrong-password").status_code == 401
    blocked = anonymous.login("tom")  # even the right password waits
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "too_many_attempts"
    assert int(blocked.headers["Retry-After"]) == blocked.json()["retry_after"] > 0
    assert anonymous.login("tia").status_code == 200  # other users are not affected
    server.clock.advance(timedelta(seconds=blocked.json()["retry_after"] + 1))
    assert anonymous.login("tom").status_code == 200


def test_unknown_names_are_throttled_like_real_ones(server: RunningServer) -> None:
    anonymous = server.api()
    for _ in range(server.settings.login_user_limit):
        anonymous.login("nobody", "wrong-password")
    assert anonymous.login("nobody", "wrong-password").status_code == 429


def test_failed_logins_are_throttled_per_address(server: RunningServer) -> None:
    anonymous = server.api()
    attacker = {"X-Forwarded-For": "198.51.100.7"}
    for n in range(server.settings.login_address_limit):
        answer = anonymous.login(f"guess{n}", "wrong-password", headers=attacker)
        assert answer.status_code == 401
    assert anonymous.login("tom", headers=attacker).status_code == 429
    assert anonymous.login("tom", headers={"X-Forwarded-For": "198.51.100.8"}).status_code == 200


def _login_seconds(api: Api, name: str, rounds: int) -> float:
    samples = []
    for n in range(rounds):
        started = time.perf_counter()
        api.login(name, f"wrong-password-{n}", headers={"X-Forwarded-For": f"192.0.2.{n}"})
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


@pytest.mark.parametrize(
    "database", ["sqlite"], indirect=True
)  # timing is the hash's, not the DB's
def test_failed_login_takes_as_long_for_unknown_users(settings: Settings, clock: FakeClock) -> None:
    """With no such user the server still runs one Argon2 check, so timing tells nothing."""
    production_cost = settings.with_changes(
        argon2_time_cost=3, argon2_memory_kib=65536, argon2_parallelism=2
    )
    with serving(production_cost, clock) as server:
        _compare_login_times(server.api())


def _compare_login_times(anonymous: Api) -> None:
    _login_seconds(anonymous, "lee", 1)  # warm up: the dummy hash and connections
    _login_seconds(anonymous, "nobody-at-all", 1)
    known = _login_seconds(anonymous, "lee", 3)
    unknown = _login_seconds(anonymous, "nobody-at-all", 3)
    assert known > 0.01  # the Argon2 check is what the time is spent on
    assert 0.7 < unknown / known < 1.4, (known, unknown)


def test_nothing_secret_reaches_the_log(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    anonymous = server.api()
    anonymous.login("tom", "wrong-password")
    token = anonymous.login("tom").json()["token"]
    Api(server.url, token).get(Paths.ME)
    Api(server.url, token).post(Paths.LOGOUT)
    text_logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "logged in" in text_logged  # the log does record what happened
    for secret in (token, PASSWORDS["tom"], "wrong-password", "Bearer"):
        assert secret not in text_logged


def test_nul_characters_are_refused_cleanly(server: RunningServer) -> None:
    """PostgreSQL text cannot hold NUL: such input is a plain refusal, never a crash."""
    anonymous = server.api()
    assert anonymous.login("to\x00m", "wrong-password").json()["code"] == "invalid_request"
    assert anonymous.login("tom", device="lap\x00top").status_code == 422
    ada = server.api("ada")
    assert ada.call("PATCH", Paths.USER.format(name="to%00m"), json={}).status_code == 422
    device = Device()
    tagged = device.create("asset", asset("IT-\x00-1"))
    assert only(ada.push_ok(device, tagged))["code"] == "invalid_fields"
