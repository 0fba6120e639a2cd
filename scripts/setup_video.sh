#!/usr/bin/env bash
# The optional video tracker's environment: mediapipe 0.10.21 needs numpy < 2, so it lives in
# its own venv (.venv-video) and `python -m core track` runs it as a subprocess.
# Idempotent: a second run with the environment in place installs nothing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py="${PYTHON:-python3}"
venv=".venv-video"
stamp="$venv/.signframe-video-1"
if [ ! -x "$venv/bin/python" ]; then
  echo "setup_video: creating $venv" >&2
  "$py" -m venv "$venv"
fi
if [ ! -f "$stamp" ]; then
  echo "setup_video: installing mediapipe 0.10.21 (numpy<2)" >&2
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q "mediapipe==0.10.21" "numpy<2"
  touch "$stamp"
fi
echo "setup_video: ready ($venv/bin/python)" >&2
