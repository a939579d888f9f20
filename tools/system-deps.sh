#!/usr/bin/env bash
# Installs the Debian packages FieldOps needs to run and test here: Qt's X11 libraries, a
# virtual screen, PulseAudio's client library for Qt Multimedia, a Secret Service keyring,
# exiftool for the photo-privacy tests, the PostgreSQL server for the server tests, and xdotool
# for the tests that type into the real window through the X server.
# As root it installs what is missing; otherwise it prints the apt-get line to run.
set -eu
packages="xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-shape0 libxcb-randr0
libxcb-render-util0 libxcb-image0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1
libdbus-1-3 libpulse0 dbus dbus-daemon gnome-keyring libimage-exiftool-perl postgresql xdotool"

command -v dpkg-query >/dev/null 2>&1 || exit 0
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = "0" ]; then
  echo "Installing system packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "FieldOps needs these system packages. Run:"
  echo "  sudo apt-get update && sudo apt-get install -y$missing"
  exit 1
fi
