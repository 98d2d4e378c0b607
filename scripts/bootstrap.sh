#!/usr/bin/env bash
# Sets up everything Watchfloor needs on a Debian/Ubuntu machine, idempotently:
#   Debian packages (installed when run as root; listed otherwise), a .venv, and the pinned
#   Python packages from requirements.lock. Re-running is fast when nothing changed.
# Usage: scripts/bootstrap.sh [--dev]   (--dev adds what the tests need: PostgreSQL server)
set -euo pipefail
cd "$(dirname "$0")/.."

want_dev=0
[[ "${1:-}" == "--dev" ]] && want_dev=1

# Qt (xcb + offscreen), Xvfb for GL/tests, PulseAudio client for QtMultimedia, the demo
# video (opencv-doc) and OpenCV's cascade files (opencv-data).
apt_packages=(python3 python3-venv python3-pip ca-certificates
  libgl1 libegl1 libxkbcommon0 libfontconfig1 libglib2.0-0 libdbus-1-3
  xvfb xauth libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
  libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-xinerama0 libxcb-xkb1
  libpulse0 opencv-doc opencv-data
  python3-gi gir1.2-gst-rtsp-server-1.0 gir1.2-gst-plugins-base-1.0 gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly)
# The last line: GStreamer's RTSP server, run under the system Python by an engine of a
# shared site that re-streams its cameras to attached consoles (`watchfloor engine --rtsp-port`).
# mosquitto: the MQTT tests' broker (with mosquitto_passwd for its users);
# espeak-ng: the speech tests' voice; it, flite and festival with two voices (HTS slt,
# diphone kal): the synthesised voices of benchmarks/speech_names.py; openbox: the window
# manager the shift journey test runs the console under (tests/window_manager.py)
(( want_dev )) && apt_packages+=(postgresql espeak-ng flite festival festvox-us-slt-hts
  festvox-kallpc16k mosquitto openbox)

missing=()
if command -v dpkg-query >/dev/null; then
  for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
fi
if (( ${#missing[@]} )); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: WARNING: missing Debian packages (run as root to install): ${missing[*]}" >&2
  fi
fi

python=${PYTHON:-}
if [[ -z "$python" ]]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null; then python=$candidate; break; fi
  done
fi
[[ -n "$python" ]] || { echo "bootstrap: no python3 found" >&2; exit 1; }

if [[ ! -x .venv/bin/python ]]; then
  echo "bootstrap: creating .venv with $($python --version)"
  "$python" -m venv .venv
fi

stamp=.venv/.watchfloor-installed
want_stamp=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || "$(cat $stamp)" != "$want_stamp" ]]; then
  echo "bootstrap: installing pinned Python packages (requirements.lock)"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade "pip==26.3"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.lock
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
  echo "$want_stamp" > $stamp
fi

# The tests' virtual ONVIF camera (tests/onvif_camera.py), --dev only: --no-deps because it
# declares opencv-python, which would clash with our opencv-contrib-python (what it imports,
# numpy and cv2, is installed above). Skipped when that version imports already.
if (( want_dev )) && ! .venv/bin/python -c "import ipycam; assert ipycam.__version__ == '1.3.0'" \
  2>/dev/null; then
  echo "bootstrap: installing the test camera ipycam 1.3.0 (--dev)"
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps "ipycam==1.3.0"
fi

# Model files: the default people detector (YOLOv3-tiny converted to ONNX; skipped when done).
.venv/bin/python scripts/fetch_models.py
