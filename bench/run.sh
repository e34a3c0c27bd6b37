#!/usr/bin/env bash
# The benchmark command: a venv with the app's pins plus PyTorch's CPU build, then bench/engine.py,
# which prints the table and writes it into the README.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv-bench/bin/python ] || python3 -m venv .venv-bench
.venv-bench/bin/python -c "import torch" 2>/dev/null || \
  .venv-bench/bin/python -m pip install --quiet -r requirements.txt torch==2.13.0 || \
  echo "PyTorch 2.13.0 could not be installed: timing the engine alone" >&2
.venv-bench/bin/python -c "import numpy" 2>/dev/null || .venv-bench/bin/python -m pip install --quiet -r requirements.txt
# This machine's environment forces OpenBLAS's Haswell kernel (OPENBLAS_CORETYPE=Haswell,
# OPENBLAS_L2_SIZE=512) on an AVX-512 CPU: sgemm runs at ~110 instead of ~174 GFLOP/s. The
# benchmark lets OpenBLAS pick its native kernel, as a deployment would; tests keep the setting.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv-bench/bin/python bench/engine.py --write-readme "$@"
