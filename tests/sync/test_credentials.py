"""The credential store: real Secret Service, no backend, a frozen build, a locked keyring.

C32 (no backend on a headless machine), C33 (a packaged build that lost its backends) and
C34 (a locked keyring: "locked" is never "nothing stored", and nothing hangs) each have their
own error, sentence and way on; the session-only fallback keeps the token in memory.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from keyring.backends import fail

from fieldops.sync import credential_errors as ce
from fieldops.sync.credentials import (
    MAX_SECRET_BYTES,
    CredentialStore,
    account_name,
    split_secret,
)
from tests.sync.keyring_doubles import HangingKeyring, MemoryKeyring, PlainFileKeyring

SERVER = "127.0.0.1:8443"
LONG_TOKEN = "fo_" + "x" * 5997
"""6,000 characters: 12,000 bytes in UTF-16, so five entries of at most 2,560 bytes."""


# Tokens, accounts and splitting.


def test_account_is_user_at_host_and_port() -> None:
    assert account_name("tom", "https://127.0.0.1:8443/") == "tom@127.0.0.1:8443"
    assert account_name("tom", "https://sync.example.com") == "tom@sync.example.com:443"
    assert account_name("tom", SERVER) == "tom@127.0.0.1:8443"


def test_split_parts_fit_the_windows_limit_and_join_back() -> None:
    parts = split_secret(LONG_TOKEN)
    assert len(parts) == 5 and "".join(parts) == LONG_TOKEN
    assert all(len(part.encode("utf-16-le")) <= MAX_SECRET_BYTES for part in parts)
    wide = "é€😀" * 700
    wide_parts = split_secret(wide)
    assert "".join(wide_parts) == wide
    for part in wide_parts:
        assert len(part.encode("utf-8")) <= MAX_SECRET_BYTES
        assert len(part.encode("utf-16-le")) <= MAX_SECRET_BYTES
    assert split_secret("short") == ["short"]


def test_long_token_is_split_in_a_store_with_the_windows_limit() -> None:
    backend = MemoryKeyring(limit=MAX_SECRET_BYTES)
    store = CredentialStore(backend=backend, timeout=5)
    store.save("tom", SERVER, LONG_TOKEN)
    assert store.load("tom", SERVER) == LONG_TOKEN
    assert len(backend.entries) == 6, "a header and five parts"
    store.save("tom", SERVER, "fo_short")
    assert store.load("tom", SERVER) == "fo_short"
    assert list(backend.entries) == [("fieldops", "tom@127.0.0.1:8443")], "old parts removed"
    assert store.delete("tom", SERVER) and not backend.entries
    assert not store.delete("tom", SERVER)


def test_missing_part_reads_as_incomplete_not_as_a_wrong_token() -> None:
    backend = MemoryKeyring()
    store = CredentialStore(backend=backend, timeout=5)
    store.save("tom", SERVER, LONG_TOKEN)
    del backend.entries[("fieldops", "tom@127.0.0.1:8443#3")]
    with pytest.raises(ce.StoredTokenDamaged) as caught:
        store.load("tom", SERVER)
    assert isinstance(caught.value, ce.NoStoredToken) and "Sign in again" in str(caught.value)


def test_nothing_stored_is_its_own_error() -> None:
    with pytest.raises(ce.NoStoredToken) as caught:
        CredentialStore(backend=MemoryKeyring(), timeout=5).load("tom", SERVER)
    assert caught.value.kind == "not_stored" and not caught.value.session_only_helps
    assert "tom@127.0.0.1:8443" in str(caught.value)


# Stores that cannot be used.


def test_fail_backend_is_no_backend_with_a_way_on() -> None:
    store = CredentialStore(backend=fail.Keyring(), timeout=5)
    for call in (lambda: store.load("tom", SERVER), lambda: store.save("tom", SERVER, "t")):
        with pytest.raises(ce.NoKeyringBackend) as caught:
            call()
        assert caught.value.kind == "no_backend" and caught.value.session_only_helps
        assert "session only" in str(caught.value) and "GNOME Keyring" in str(caught.value)


def test_insecure_backend_is_refused_and_gets_nothing() -> None:
    backend = PlainFileKeyring()
    with pytest.raises(ce.InsecureKeyringBackend):
        CredentialStore(backend=backend, timeout=5).save("tom", SERVER, "secret-token")
    assert backend.entries == {}


def test_session_only_keeps_the_token_in_memory() -> None:
    store = CredentialStore(backend=fail.Keyring(), timeout=5)
    with pytest.raises(ce.NoKeyringBackend):
        store.save("tom", SERVER, "tok")
    store.use_session_only()
    store.save("tom", SERVER, "tok")
    assert store.session_only and store.load("tom", SERVER) == "tok"
    assert store.describe_backend().status == "session_only"
    assert store.delete("tom", SERVER)
    with pytest.raises(ce.NoStoredToken):
        store.load("tom", SERVER)


@pytest.fixture
def hanging() -> Iterator[HangingKeyring]:
    backend = HangingKeyring()
    yield backend
    backend.release.set()


def test_hanging_keyring_is_given_up_on_and_not_asked_again(hanging: HangingKeyring) -> None:
    """C34: a call that never returns costs the caller the timeout, once."""
    store = CredentialStore(backend=hanging, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(ce.CredentialStoreNotAnswering) as caught:
        store.load("tom", SERVER)
    assert 0.45 <= time.monotonic() - started < 1.5
    assert isinstance(caught.value, ce.CredentialStoreLocked) and caught.value.retry_helps
    assert "0.5 s" in str(caught.value) and "nothing was overwritten" in str(caught.value)

    started = time.monotonic()
    with pytest.raises(ce.CredentialStoreNotAnswering) as again:
        store.save("tom", SERVER, "new-token")
    assert time.monotonic() - started < 0.2 and "earlier request" in str(again.value)
    assert hanging.calls == 1, "no second prompt piled up behind the first"

    hanging.release.set()
    store._runner._stuck.join(5)  # type: ignore[union-attr]
    store.save("tom", SERVER, "after-unlock")
    assert store.load("tom", SERVER) == "after-unlock"


def test_token_never_reaches_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = CredentialStore(backend=MemoryKeyring(), timeout=5)
    store.save("tom", SERVER, "fo_secret_token_value")
    store.load("tom", SERVER)
    store.delete("tom", SERVER)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "tom@127.0.0.1:8443" in text and "fo_secret_token_value" not in text


# The real Secret Service (inside `make test`'s D-Bus session with an unlocked keyring).

secret_service = pytest.mark.skipif(
    os.environ.get("FIELDOPS_TEST_SECRET_SERVICE") != "1",
    reason="needs the unlocked gnome-keyring of tools/test-session.sh (make test)",
)


@pytest.fixture
def test_service() -> Iterator[str]:
    """A service name of this test only; every item under it is deleted afterwards."""
    import secretstorage

    name = f"fieldops-test-{uuid.uuid4().hex[:8]}"
    yield name
    with secretstorage.dbus_init() as bus:
        for item in secretstorage.search_items(bus, {"service": name}):
            item.delete()


@pytest.mark.keyring
@secret_service
def test_secret_service_round_trip_with_a_split_token(test_service: str) -> None:
    import secretstorage

    store = CredentialStore(service=test_service)
    store.save("tom", SERVER, "fo_short_token")
    assert store.load("tom", SERVER) == "fo_short_token"
    store.save("tom", SERVER, LONG_TOKEN)
    assert store.load("tom", SERVER) == LONG_TOKEN
    with secretstorage.dbus_init() as bus:
        items = list(secretstorage.search_items(bus, {"service": test_service}))
        assert len(items) == 6
    assert store.delete("tom", SERVER)
    with pytest.raises(ce.NoStoredToken):
        store.load("tom", SERVER)
    with secretstorage.dbus_init() as bus:
        assert list(secretstorage.search_items(bus, {"service": test_service})) == []


@pytest.mark.keyring
@secret_service
def test_describe_backend_names_the_secret_service(test_service: str) -> None:
    store = CredentialStore(service=test_service)
    report = store.describe_backend()
    assert report.backend == "keyring.backends.SecretService.Keyring"
    assert report.status == "ready" and report.priority == 5
    assert any("SecretService" in probe.name for probe in report.tried)
    assert report.lines()[0].startswith("credential store: keyring.backends.SecretService")
    store.round_trip()


# Real environments in subprocesses: no D-Bus, a frozen build, a locked collection.

PROBE_SCRIPT = """
import json, sys
if "frozen" in sys.argv:
    sys.frozen = True  # what PyInstaller sets in a packaged build
from fieldops.sync.credentials import CredentialStore
from fieldops.sync.credential_errors import CredentialError

store = CredentialStore(service=sys.argv[1], timeout=10)
out = {}
calls = {
    "load": lambda: store.load("tom", "127.0.0.1:8443"),
    "save": lambda: store.save("tom", "127.0.0.1:8443", "fo_token"),
    "delete": lambda: store.delete("tom", "127.0.0.1:8443"),
}
for name, call in calls.items():
    try:
        out[name] = call() if name == "load" else (call(), "ok")[1]
    except CredentialError as error:
        out[name] = error.kind
        out[name + "_text"] = str(error)
        out["tried"] = getattr(error, "tried", [])
report = store.describe_backend()
out["backend"], out["status"], out["lines"] = report.backend, report.status, report.lines()
store.use_session_only()
store.save("tom", "127.0.0.1:8443", "fo_session_token")
out["session"] = store.load("tom", "127.0.0.1:8443")
print(json.dumps(out))
"""


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This process's environment without D-Bus, a display or keyring settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY"}
        and not key.startswith("PYTHON_KEYRING")
    }
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # no keyringrc.cfg of the user's
    env.update(extra)
    return env


def _probe(tmp_path: Path, *args: str, **env: str) -> dict[str, Any]:
    script = tmp_path / "probe.py"
    script.write_text(PROBE_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), "fieldops-test-probe", *args],
        env=_clean_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_headless_without_dbus_and_the_fail_backend(tmp_path: Path) -> None:
    """C32: no D-Bus session, keyring told to use its fail backend."""
    out = _probe(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    assert out["load"] == out["save"] == out["delete"] == "no_backend"
    assert "no secure credential store" in out["load_text"]
    assert out["status"] == "no_backend" and out["backend"] == "keyring.backends.fail.Keyring"
    assert any("SecretService" in line and "not available" in line for line in out["tried"])
    assert any("chosen by PYTHON_KEYRING_BACKEND" in line for line in out["lines"])
    assert out["session"] == "fo_session_token"


def test_headless_without_dbus_keyring_detects_nothing(tmp_path: Path) -> None:
    """C32 as a fresh headless machine sees it: keyring's own detection finds no backend."""
    out = _probe(tmp_path)
    assert out["load"] == "no_backend" and out["status"] == "no_backend"
    assert any("chosen by detection" in line for line in out["lines"])


def test_empty_chainer_is_no_backend(tmp_path: Path) -> None:
    """A chainer with nothing to chain answers None to every read: not "nothing stored"."""
    out = _probe(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.chainer.ChainerBackend")
    assert out["load"] == "no_backend"


def test_frozen_build_that_lost_its_backends(tmp_path: Path) -> None:
    """C33: a packaged build whose keyring found only the fail backend."""
    out = _probe(tmp_path, "frozen", PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    assert out["load"] == out["save"] == "frozen_no_backend"
    assert "report this build to IT" in out["load_text"]
    assert out["status"] == "frozen_no_backend"


LOCK_SCRIPT = """
import json
import secretstorage
from fieldops.sync.credentials import CredentialStore
from fieldops.sync.credential_errors import CredentialError

store = CredentialStore(service="fieldops-test-locked", timeout=10)
store.save("tom", "127.0.0.1:8443", "fo_token_before_lock")
out = {"before": store.load("tom", "127.0.0.1:8443")}
with secretstorage.dbus_init() as bus:
    collection = secretstorage.get_default_collection(bus)
    collection.lock()
    out["is_locked"] = collection.is_locked()
calls = {
    "load": lambda: store.load("tom", "127.0.0.1:8443"),
    "save": lambda: store.save("tom", "127.0.0.1:8443", "fo_token_after_lock"),
    "delete": lambda: store.delete("tom", "127.0.0.1:8443"),
}
for name, call in calls.items():
    try:
        call()
        out[name] = "ok"
    except CredentialError as error:
        out[name] = error.kind
        out[name + "_text"] = str(error)
print(json.dumps(out))
"""

LOCK_SESSION = """
set -eu
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
eval "$(printf 'lock-test' | gnome-keyring-daemon --unlock --components=secrets)"
exec "$1" "$2"
"""


def test_locked_collection_says_locked_not_nothing_stored(tmp_path: Path) -> None:
    """C34: a real GNOME keyring, locked through the Secret Service, with no prompter."""
    if not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")):
        pytest.skip("needs dbus-run-session and gnome-keyring-daemon")
    (tmp_path / "lock.py").write_text(LOCK_SCRIPT)
    (tmp_path / "session.sh").write_text(LOCK_SESSION)
    env = _clean_env(
        tmp_path, XDG_DATA_HOME=str(tmp_path / "data"), XDG_RUNTIME_DIR=str(tmp_path / "run")
    )
    session, script = str(tmp_path / "session.sh"), str(tmp_path / "lock.py")
    done = subprocess.run(
        ["dbus-run-session", "--", "bash", session, sys.executable, script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["before"] == "fo_token_before_lock" and out["is_locked"]
    assert out["load"] == out["save"] == out["delete"] == "locked"
    assert "locked or unavailable" in out["load_text"] and "Unlock" in out["load_text"]
