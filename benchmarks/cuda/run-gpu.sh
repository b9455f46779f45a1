#!/usr/bin/env bash
# The CUDA layer's GPU tests and upload benchmark in one command (../shared/gpu/README.md).
#
#   benchmarks/cuda/run-gpu.sh prepare
#       here, with JDK 25 and Maven: builds the jars and fills .gpu/ (a Java 25 runtime, the shaded
#       benchmarks jar with every module and JCuda, the native and safetensors test classes, the
#       JUnit console launcher); fetches the launcher from Maven Central once.
#   device tool: run(command="bash benchmarks/cuda/run-gpu.sh run", carry=[".gpu"], timeout_s=600)
#       on the GPU machine: runs every dev.safeload.cuda test with -Dsafeload.gpu.required=true (GPU
#       tests run and fail rather than skip), then the benchmark, and writes under $OUT:
#       env.txt, tests.log + junit/ (XML), bench.log, results.md (the table).
#       Environment: BENCH_GIB (file size, default 8.5), BENCH_DIR (where the file goes; must be a
#       real disk, not tmpfs, for the cold figures), TEST_TIMEOUT, SKIP_TESTS=1, SKIP_BENCH=1.
#
# The benchmark, all in one run so that ratios compare like with like:
#   - a safetensors file of BENCH_GIB (default 8.5) GiB, written on the machine's disk;
#   - ceiling: pinned host-to-device copy rate (8 GiB over 2 streams);
#   - warm (file in the page cache): ModelUploader with the pread and mmap backends, 3 runs each,
#     and the peer safetensors.torch.load_file(path, device="cuda"), 2 runs;
#   - cold (pages dropped with posix_fadvise(DONTNEED) before each): the raw read rate of the file
#     (8 threads of 16 MiB positional reads, the cold ceiling), ModelUploader, and the peer.
# Goals (issue 4): warm >= 0.9x the pinned H2D rate; >= 3x the peer.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
junit_version=1.13.4

prepare() {
  exclude=$(git rev-parse --git-path info/exclude)
  grep -qxF '/.gpu/' "$exclude" 2>/dev/null || echo '/.gpu/' >> "$exclude"
  grep -qxF '/.bench/' "$exclude" 2>/dev/null || echo '/.bench/' >> "$exclude"
  mvn -B -q -o -DskipTests package -pl benchmarks -am
  rm -rf .gpu && mkdir -p .gpu/lib
  make_jre=""
  for candidate in "$root/../shared/gpu/make-jre.sh" /work/shared/gpu/make-jre.sh; do
    [ -x "$candidate" ] && { make_jre=$candidate; break; }
  done
  [ -n "$make_jre" ] || { echo "make-jre.sh not found (../shared/gpu/)" >&2; exit 2; }
  "$make_jre" .gpu/jre.tgz
  cp benchmarks/target/benchmarks.jar .gpu/lib/
  cp -r native/target/test-classes .gpu/native-test-classes
  cp -r safetensors/target/test-classes .gpu/safetensors-test-classes
  mvn -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:$junit_version \
      -DoutputDirectory=.gpu/lib
  du -sh .gpu
}

run() {
  out=${OUT:-$root/.gpu-out}
  mkdir -p "$out"
  tar xzf .gpu/jre.tgz -C /tmp
  export JAVA_HOME=/tmp/jre PATH=/tmp/jre/bin:$PATH
  { nvidia-smi || true; nvidia-smi -q 2>/dev/null | grep -iE 'product name|link gen|link width|driver version' || true
    df -hT . || true; free -g || true; nproc
    python3 -c 'import torch, safetensors; print("torch", torch.__version__, "cuda", torch.version.cuda, "safetensors", safetensors.__version__)' || true
    java -version 2>&1; } > "$out/env.txt" 2>&1
  if ! ldconfig -p 2>/dev/null | grep -q 'libcublas.so.1[23] '; then
    lib=$(find / \( -name 'libcublas.so.13' -o -name 'libcublas.so.12' \) -not -path '/proc/*' 2>/dev/null | head -1 || true)
    [ -n "$lib" ] && export SAFELOAD_CUBLAS_LIBRARY=$lib && echo "cuBLAS: $lib" >> "$out/env.txt"
  fi
  flags=(--enable-native-access=ALL-UNNAMED -Dsafeload.gpu.required=true -Dsafeload.cuda.leakDetection=true)

  # Tests run from native/ (they use paths relative to the module, as under Maven).
  tests_status=0
  # A hung test must not eat the benchmark's time: TEST_TIMEOUT seconds at most (SKIP_TESTS=1 or
  # SKIP_BENCH=1 split the work over two device calls if one 10-minute call is not enough).
  [ "${SKIP_TESTS:-0}" = 1 ] || (cd native && timeout "${TEST_TIMEOUT:-240}" java "${flags[@]}" -jar ../.gpu/lib/junit-platform-console-standalone-$junit_version.jar execute \
      --class-path ../.gpu/lib/benchmarks.jar:../.gpu/native-test-classes:../.gpu/safetensors-test-classes \
      --select-package dev.safeload.cuda --reports-dir "$out/junit" --details=tree --disable-banner) \
      > "$out/tests.log" 2>&1 || tests_status=$?
  [ -f "$out/tests.log" ] && tail -25 "$out/tests.log"
  [ "${SKIP_BENCH:-0}" = 1 ] && exit "$tests_status"

  work=${BENCH_DIR:-$root/.bench}
  mkdir -p "$work"
  file=$work/model.safetensors
  log=$out/bench.log
  : > "$log"
  bench=(java "${flags[@]}" -Xmx2g -cp .gpu/lib/benchmarks.jar dev.safeload.bench.cuda.CudaUploadBench)
  # A failed step is logged and the run goes on, so the other figures still come back.
  # The table is rewritten after every step, so a run cut off by the time limit still returns one.
  step() {
    echo "== $*" | tee -a "$log"
    "$@" 2>&1 | tee -a "$log" || echo "FAILED (status ${PIPESTATUS[0]}): $*" | tee -a "$log"
    python3 benchmarks/cuda/table.py "$log" > "$out/results.md" || true
  }
  step python3 benchmarks/cuda/make_model.py "$file" "${BENCH_GIB:-8.5}"
  step "${bench[@]}" h2d --bytes 8g --streams 2
  cat "$file" > /dev/null  # warm: every page in the cache
  step "${bench[@]}" upload "$file" --backend pread --repeat 3 --name upload_warm_pread --verify
  step "${bench[@]}" upload "$file" --backend mmap --repeat 3 --name upload_warm_mmap
  step python3 benchmarks/cuda/peer_load.py "$file" peer_warm_run0
  step python3 benchmarks/cuda/peer_load.py "$file" peer_warm_run1
  step python3 benchmarks/cuda/drop_cache.py "$file"
  step "${bench[@]}" read "$file" --threads 8 --name raw_read_cold
  step python3 benchmarks/cuda/drop_cache.py "$file"
  step "${bench[@]}" upload "$file" --backend pread --name upload_cold_pread
  step python3 benchmarks/cuda/drop_cache.py "$file"
  step "${bench[@]}" upload "$file" --backend mmap --name upload_cold_mmap
  step python3 benchmarks/cuda/drop_cache.py "$file"
  step python3 benchmarks/cuda/peer_load.py "$file" peer_cold
  { echo; echo "command: bash benchmarks/cuda/run-gpu.sh run (BENCH_GIB=${BENCH_GIB:-8.5})"; } >> "$out/results.md"
  cat "$out/results.md"
  rm -f "$file"
  exit "$tests_status"
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
