#!/usr/bin/env bash
# Regenerates the PTX resources from the CUDA C sources in src/main/cuda/.
#
# nvcc 13 writes `.version 9.0`, which only CUDA 13 (r580+) drivers load; a CUDA 12 driver refuses
# it with CUDA_ERROR_UNSUPPORTED_PTX_VERSION. The kernels use no instruction newer than PTX ISA 7.0,
# so the header is lowered to `.version 7.0` (CUDA 11.0+ drivers) with `.target sm_75` (the oldest
# architecture CUDA 13 still supports), and the result is assembled with ptxas for every
# architecture we claim, which fails if the lowered header is wrong (docs/lora.md §6).
# Usage: native/build-ptx.sh   (needs nvcc and ptxas on PATH)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/src/main/resources/dev/safeload/cuda/kernels
ptx_version=7.0
mkdir -p "$out"
for source in "$here"/src/main/cuda/*.cu; do
  name=$(basename "$source" .cu)
  tmp=$(mktemp)
  nvcc -ptx -arch=compute_75 -O3 -o "$tmp" "$source"
  # Keep nvcc's header comment out (it names the build machine's toolkit); rewrite the version line.
  { echo "// Generated from native/src/main/cuda/$name.cu by native/build-ptx.sh; do not edit."
    grep -v '^//' "$tmp" | sed -E "s/^\.version [0-9.]+$/.version $ptx_version/"; } > "$out/$name.ptx"
  rm -f "$tmp"
  for arch in sm_75 sm_80 sm_90; do
    ptxas -arch=$arch -o /dev/null "$out/$name.ptx"
  done
  echo "wrote $out/$name.ptx ($(grep -E '^\.(version|target)' "$out/$name.ptx" | tr '\n' ' '))"
done
