#!/usr/bin/env bash
# GPU LoRA benchmarks, for a machine with an NVIDIA GPU (not run in the session that wrote them):
#  1. the GPU tests of lora-kernels (CUDA against the CPU reference) must pass first;
#  2. JMH: merge of a whole 7B-shaped set (32 layers, rank 16) in place on device weights, with
#     factors resident and with their upload, against a device-to-device copy of the same bytes
#     (the HBM ceiling, measured in the same run); serving 1/8/64 adapters against the merged matmul;
#  3. the peft peer (peft_bench.py) on the same GPU, if torch + transformers + peft are installed.
#
#   benchmarks/lora/run-gpu.sh [--quick] [--layers N] [--no-build] [--out DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/benchmarks/lora"
layers=32 usage_lines='2,10p'
source "$here/common.sh"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >&2 \
  || { echo "run-gpu.sh: nvidia-smi failed: no GPU here" >&2; exit 2; }
out=${out:-"$root/bench-out/lora-gpu-$(date -u +%Y%m%dT%H%M%SZ)"}
mkdir -p "$out"
: > "$out/load.txt"
if [ "$build" = 1 ]; then
  echo "== GPU tests (CUDA vs CPU reference)" >&2
  (cd "$root" && mvn -B -q verify -pl lora-kernels -am -Dtest='CudaLoraBackendTest' -Dsurefire.failIfNoSpecifiedTests=false >&2)
  grep -h 'testsuite ' "$root"/lora-kernels/target/surefire-reports/TEST-dev.safeload.lora.CudaLoraBackendTest.xml \
    | sed 's/.*tests="\([0-9]*\)".*skipped="\([0-9]*\)".*/GPU tests: \1 run, \2 skipped/' | tee "$out/gpu-tests.txt" >&2
  (cd "$root" && mvn -B -q -DskipTests package -pl benchmarks -am >&2)
fi
run gpu-merge 'dev\.safeload\.bench\.lora\.CudaMergeBenchmark\..*' -p layers="$layers"
run gpu-serving 'dev\.safeload\.bench\.lora\.CudaServingBenchmark\..*'
if python3 -c 'import torch, transformers, peft' 2>/dev/null; then
  echo "== peft peer" >&2
  python3 "$here/peft_bench.py" "$out/peft.json" --layers "$layers" >&2
else
  echo "== peft peer skipped: python3 -m pip install torch transformers peft" >&2
fi
{
  echo "command: benchmarks/lora/run-gpu.sh $*"
  echo "java: $("$jdk/bin/java" -version 2>&1 | head -1)"
  echo "gpu: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader)"
} > "$out/environment.txt"
python3 "$here/report.py" "$out" | tee "$out/table.md"
echo "results in $out" >&2
