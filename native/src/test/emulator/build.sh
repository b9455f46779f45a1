#!/usr/bin/env bash
# Builds the CUDA emulator (fake_cuda.cpp -> libcuda.so.1, fake_cublas.cpp -> libcublas.so.13) into
# OUT, for the GPU tests' emulated run in `mvn verify` (native/pom.xml, execution "emulated-gpu").
# It needs g++ and the CUDA headers (cuda_fp16.h, for the kernels' host build). Without them it
# says so and builds nothing: the emulated run then finds no CUDA and reports its tests as skipped.
# Usage: build.sh OUT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUT}
mkdir -p "$out"
include=""
for dir in ${CUDA_HOME:+$CUDA_HOME/include} /usr/local/cuda/include /usr/include; do
  if [[ -f $dir/cuda_fp16.h ]]; then include=$dir; break; fi
done
if ! command -v g++ >/dev/null || [[ -z $include ]]; then
  echo "CUDA emulator not built (needs g++ and cuda_fp16.h): its GPU tests will be skipped" >&2
  rm -f "$out/libcuda.so.1" "$out/libcublas.so.13"
  exit 0
fi
stamp="$out/.sources"
sources=$(cat "$here"/*.cpp "$here"/*.h "$here"/../../main/cuda/*.cu | sha256sum)
if [[ -f $out/libcuda.so.1 && -f $out/libcublas.so.13 && -f $stamp && $(cat "$stamp") == "$sources" ]]; then
  exit 0
fi
flags=(-std=c++17 -O2 -g -fPIC -shared -Wall -Wno-unused-function -pthread -I"$include")
# A compiler that cannot build it (an old g++ without _Float16, other CUDA headers) must not fail
# the build: the emulated run then finds no CUDA and reports its tests as skipped.
if ! g++ "${flags[@]}" -Wl,-soname,libcuda.so.1 -o "$out/libcuda.so.1" "$here/fake_cuda.cpp" \
   || ! g++ "${flags[@]}" -Wl,-soname,libcublas.so.13 -o "$out/libcublas.so.13" "$here/fake_cublas.cpp" \
        -L"$out" -l:libcuda.so.1 -Wl,-rpath,'$ORIGIN'; then
  echo "CUDA emulator not built (the compiler failed, see above): its GPU tests will be skipped" >&2
  rm -f "$out/libcuda.so.1" "$out/libcublas.so.13" "$stamp"
  exit 0
fi
echo "$sources" > "$stamp"
echo "CUDA emulator built in $out"
