#!/usr/bin/env bash
# Idempotent setup: system packages, then .venv from pyproject.toml.
# A second run with nothing changed does no installs (stamp files keyed on content hashes).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
extras="${1:-dev}"

apt_pkgs=(python3 python3-venv python3-dev
  xvfb xauth libxcb-icccm4 libxcb-keysyms1 libportaudio2
  libgl1 libegl1 libgl1-mesa-dri libglx-mesa0 libegl-mesa0 libxkbcommon0 libxkbcommon-x11-0
  libx11-xcb1 libxcb-cursor0 libxcb-image0 libxcb-randr0 libxcb-render-util0 libxcb-shape0
  libxcb-xkb1 libxcb-xfixes0 libfontconfig1 fonts-dejavu-core libdbus-1-3 libasound2)

missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing system packages: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$py" -m venv .venv
fi
stamp=".venv/.signframe-$extras"
want="$(cat pyproject.toml | sha256sum | cut -c1-16)-$extras"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages [$extras]" >&2
  .venv/bin/python -m pip install -q --upgrade pip
  # The CPU build of torch first, so the range in pyproject.toml is already satisfied.
  .venv/bin/python -m pip install -q "torch==2.13.0"
  .venv/bin/python -m pip install -q -e ".[$extras]"
  echo "$want" > "$stamp"
fi
