#!/usr/bin/env bash
# `make bench`: every benchmark, each printing its figures next to its targets. The engine table
# and the HTTP table are also written into the README.
set -uo pipefail
cd "$(dirname "$0")/.."
[ -x .venv-bench/bin/python ] || python3 -m venv .venv-bench
.venv-bench/bin/python -c "import torch" 2>/dev/null || \
  .venv-bench/bin/python -m pip install --quiet -r requirements.txt torch==2.13.0 || \
  echo "PyTorch 2.13.0 could not be installed: timing the engine alone" >&2
.venv-bench/bin/python -c "import numpy" 2>/dev/null || .venv-bench/bin/python -m pip install --quiet -r requirements.txt
command -v wrk >/dev/null || { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get install -y -qq wrk >/dev/null; }
status=0
# This machine's environment forces OpenBLAS's Haswell kernel (OPENBLAS_CORETYPE=Haswell,
# OPENBLAS_L2_SIZE=512) on an AVX-512 CPU: sgemm runs at ~110 instead of ~174 GFLOP/s. The
# benchmarks let OpenBLAS pick its native kernel, as a deployment would; tests keep the setting.
export -n OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
.venv-bench/bin/python bench/engine.py --write-readme "$@" || status=1
.venv/bin/python bench/load.py --write-readme || status=1
.venv/bin/python bench/hostile.py || status=1
.venv/bin/python bench/lecture_hall.py || status=1  # the burst (issue 20)
.venv/bin/python bench/lecture_hall.py --session || status=1
.venv/bin/python -m bench.real_sizes || status=1
.venv/bin/python -m bench.repaint || status=1  # the slider budget (issue 20), in Chromium
.venv/bin/python -m bench.repaint --others --rounds 2 || status=1  # the same on layers in no test table
.venv/bin/python bench/page_weight.py || status=1
[ "${SOAK:-1}" = 0 ] || .venv/bin/python bench/soak.py || status=1
exit $status
