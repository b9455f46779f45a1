#!/usr/bin/env bash
# The CUDA layer's GPU tests and upload benchmark: now a thin wrapper over benchmarks/gpu/run.sh,
# the one entry point for every GPU result (its header has the details and the recommended device
# calls).
#
#   benchmarks/cuda/run-gpu.sh prepare    = benchmarks/gpu/run.sh prepare (fills .gpu/)
#   benchmarks/cuda/run-gpu.sh run        = SKIP_LORA=1 benchmarks/gpu/run.sh run: the GPU tests of
#       native, lora-kernels and cli, the peft checks, then the upload benchmark (issue 4); results in
#       $OUT/results.md. SKIP_BENCH=1 (the old name) skips the benchmark, as SKIP_UPLOAD=1 does;
#       SKIP_TESTS, BENCH_GIB, BENCH_DIR, SMOKE pass through.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in
  prepare) exec bash "$here/../gpu/run.sh" prepare ;;
  run) SKIP_LORA=1 SKIP_UPLOAD=${SKIP_UPLOAD:-${SKIP_BENCH:-0}} exec bash "$here/../gpu/run.sh" run ;;
  *) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
