#!/usr/bin/env bash
# Runs the test suite inside a private D-Bus session with an unlocked gnome-keyring, so the
# credential tests use a real Secret Service. Arguments go to pytest.
set -eu
if command -v gnome-keyring-daemon >/dev/null 2>&1 && [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  keyring_home=$(mktemp -d)
  export XDG_DATA_HOME="$keyring_home/data" XDG_RUNTIME_DIR="$keyring_home/run"
  mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
  eval "$(printf 'test-keyring' | gnome-keyring-daemon --unlock --components=secrets)"
  export FIELDOPS_TEST_SECRET_SERVICE=1
fi
exec .venv/bin/python -m pytest "$@"
