#!/usr/bin/env bash
# GPU LoRA tests and benchmarks: now a thin wrapper over benchmarks/gpu/run.sh, the one entry point
# for every GPU result (its header has the details and the recommended device calls). It runs the
# GPU tests (CUDA against the CPU reference, the peft checks), then the LoRA phase: the D2D roofline,
# the JMH merge of a 7B-shaped set and the serving overhead for 1/8/64 adapters, the CPU merge on the
# same machine, and peft_bench.py; tables in OUT/results.md.
#
#   benchmarks/lora/run-gpu.sh
#
# Environment: LORA_LAYERS (7B layers merged per operation, default 32: 12.9 GB of device memory),
# OUT (default bench-out/lora-gpu-<UTC time>), SKIP_TESTS=1 (benchmarks alone), SMOKE=1 (the CUDA
# emulator smoke run). Where Maven is installed it runs `benchmarks/gpu/run.sh prepare` first
# (NO_BUILD=1 to use .gpu/ as it is); the GPU machine has no Maven and uses the carried .gpu/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ "${NO_BUILD:-0}" != 1 ] && command -v mvn > /dev/null; then
  bash "$root/benchmarks/gpu/run.sh" prepare
fi
OUT=${OUT:-"$root/bench-out/lora-gpu-$(date -u +%Y%m%dT%H%M%SZ)"} SKIP_UPLOAD=1 exec bash "$root/benchmarks/gpu/run.sh" run
