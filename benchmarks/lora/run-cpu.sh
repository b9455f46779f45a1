#!/usr/bin/env bash
# CPU LoRA benchmarks (no GPU needed): merge of 7B-shaped layers against a read+write ceiling over
# the same bytes, and serving without merging (1/8/64 adapters) against the merged matmul.
#
#   benchmarks/lora/run-cpu.sh [--quick] [--layers N] [--no-build] [--out DIR]
#
#   --quick     fewer, shorter iterations (a smoke run; figures not for quoting)
#   --layers N  7B layers to merge per operation (default 1: 404 MB of F16 weights; 32 = a whole
#               7B, 12.9 GB, needs that much free memory)
#   --no-build  use benchmarks/target/benchmarks.jar as it is
#   --out DIR   results (default bench-out/lora-cpu-<UTC time>)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/benchmarks/lora"
layers=1 usage_lines='2,13p'
source "$here/common.sh"
if [ "$build" = 1 ]; then
  (cd "$root" && mvn -B -q -DskipTests package -pl benchmarks -am >&2)
fi
out=${out:-"$root/bench-out/lora-cpu-$(date -u +%Y%m%dT%H%M%SZ)"}
mkdir -p "$out"
: > "$out/load.txt"
run cpu-merge 'dev\.safeload\.bench\.lora\.CpuMergeBenchmark\..*' -p layers="$layers"
run cpu-serving 'dev\.safeload\.bench\.lora\.CpuServingBenchmark\..*'
{
  echo "command: benchmarks/lora/run-cpu.sh $*"
  echo "java: $("$jdk/bin/java" -version 2>&1 | head -1)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; kernel $(uname -r)"
  sed "s/^/load average (1, 5, 15 min) /" "$out/load.txt"
} > "$out/environment.txt"
python3 "$here/report.py" "$out" | tee "$out/table.md"
echo "results in $out" >&2
