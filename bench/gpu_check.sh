#!/usr/bin/env bash
# GPU check of the generated projects: render every template, run each
# pipeline's stage commands from dvc.yaml in dependency order WITHOUT DVC, run
# each project's tests, and print per-stage seconds and the device each stage
# used (measured: whether the process initialised CUDA, and its peak memory).
# Everything is written under one temporary folder, removed at the end.
#
# 1. Here (a machine with the package index, dlpath's venv active):
#        bash bench/gpu_check.sh --download [--python 3.12]
#    puts the wheels the GPU machine lacks (cookiecutter, PyYAML, captum, ...
#    about 6 MiB for Python 3.10-3.13) into bench/gpu_check_wheels/ (git-ignored).
# 2. On the GPU machine (python3 with torch, numpy, scikit-learn, matplotlib and
#    pytest; no index, no DVC), from the repository root, carrying
#    bench/gpu_check_wheels:
#        bash bench/gpu_check.sh [--templates xai,quantization] [--variants solved,fresh]
#                                [--budget 520] [--keep] [--json]
#    Default: every template with its reference solution written in (every code
#    path runs); templates not started within --budget seconds are listed as not
#    run. Exit status 0 only when every stage and every test run passed.
#
# PYTHON=/path/to/python overrides python3.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py="${PYTHON:-python3}"
# No __pycache__ next to this checkout or anywhere else.
export PYTHONDONTWRITEBYTECODE=1
if [ "${1:-}" = "--download" ]; then
    shift
    exec "$py" "$here/gpu_check.py" download "$@"
fi
exec "$py" "$here/gpu_check.py" run "$@"
