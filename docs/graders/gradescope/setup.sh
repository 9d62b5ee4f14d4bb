#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (Ubuntu).
# Put it in the autograder zip beside run_autograder, with a dlpath wheel
# (dlpath-*.whl, from `python -m build` or `pip wheel --no-deps .`) if dlpath is not
# installable by name where you are.
set -euo pipefail
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip git
python3 -m venv /opt/dlpath
# The CPU build of torch: a bare `torch` would pull a multi-GB CUDA build.
/opt/dlpath/bin/pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
wheel=$(ls /autograder/source/dlpath-*.whl 2>/dev/null | head -n 1 || true)
/opt/dlpath/bin/pip install "${wheel:-dlpath}[ml]"
ln -sf /opt/dlpath/bin/dlpath /usr/local/bin/dlpath
ln -sf /opt/dlpath/bin/dvc /usr/local/bin/dvc
