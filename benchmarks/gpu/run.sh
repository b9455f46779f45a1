#!/usr/bin/env bash
# Every GPU result of the project, in one or two calls of the device tool (../shared/gpu/README.md;
# what is measured and why: issues 4 and 5, benchmarks/README.md "GPU").
#
#   benchmarks/gpu/run.sh prepare
#       Here (JDK 25 + Maven, offline): builds benchmarks and cli with what they depend on, then fills
#       .gpu/ (git-ignored; must stay under the device tool's 64 MiB): jre.tgz (a jlinked Java 25),
#       lib/ (the shaded benchmarks jar: every module, JMH, Jackson, JCuda with its natives; the cli
#       jar and picocli; the JUnit console launcher) and test/<module>/ (the test classes and test
#       resources of safetensors, cache, native, lora-kernels and cli). Prints `du -sh .gpu`.
#
#   benchmarks/gpu/run.sh run
#       On the GPU machine (no JDK, no Maven, nothing to download). Writes everything under $OUT
#       (default .gpu-out/): results.md (all tables, rewritten after every step, so a run cut off
#       still returns one), run.log, steps.tsv, commands.txt (the exact commands), env.txt,
#       device.txt (+ device.log), tests/, checks.log, upload/, lora/. Three phases, each skippable:
#         tests  (SKIP_TESTS=1)  every GPU-tagged test of native, lora-kernels and cli through the JUnit
#                console launcher with -Dsafeload.gpu.required=true (and leak detection), the peft
#                merge_and_unload oracle test (PeftMergeAndUnloadTest), and `safeload lora merge
#                --device cuda` and `--device cpu` against peft's merge_and_unload (LoRA and DoRA).
#         upload (SKIP_UPLOAD=1) CudaUploadBench (issue 4): a BENCH_GIB (8.5) GiB file; ceilings: pinned
#                H2D, raw cold read; ModelUploader warm (pread, mmap) and cold; the peer
#                safetensors.torch.load_file(device="cuda") warm and cold.
#         lora   (SKIP_LORA=1)   the HBM roofline (one large device-to-device copy), the F16 GEMM
#                ceiling (cublasGemmEx 8192^3, fp32 compute), the JMH merge of a
#                7B-shaped set (32 layers, rank 16, F16 and BF16) with its same-weights copy ceiling,
#                the JMH serving overhead for 1/8/64 adapters over the merged matmul, the CPU merge on
#                the same machine, and peft_bench.py (peft merge_adapter on the same GPU).
#       Other settings: RUN_BUDGET (seconds for the whole call, default 560: steps that would start
#       later are skipped and listed, so the call returns within the 600 s limit), BENCH_DIR (where
#       the upload file goes: a real disk, not tmpfs), BENCH_GIB, LORA_LAYERS (32), TORCH_PYTHON.
#
#   SMOKE=1 benchmarks/gpu/run.sh run
#       The same path on a machine without a GPU, against the CUDA emulator (native/src/test/emulator,
#       built into EMULATOR_DIR, default native/target/cuda-emulator) with tiny sizes, one JMH
#       iteration and torch on the CPU. Its tables say "EMULATOR — not a measurement": they only show
#       that the scripts run.
#
# Recommended device calls, after `prepare` here (each well under the 10-minute limit: about 7 and
# 4 minutes; the upload gets a call of its own because the machine's disk speed, which sets the time
# of its 8.5 GiB write and cold reads, is unknown):
#   run(carry=[".gpu"], timeout_s=600, command="tar xzf .gpu/jre.tgz -C /tmp && export JAVA_HOME=/tmp/jre PATH=/tmp/jre/bin:$PATH && SKIP_UPLOAD=1 bash benchmarks/gpu/run.sh run")
#   run(carry=[".gpu"], timeout_s=600, command="tar xzf .gpu/jre.tgz -C /tmp && export JAVA_HOME=/tmp/jre PATH=/tmp/jre/bin:$PATH && SKIP_TESTS=1 SKIP_LORA=1 bash benchmarks/gpu/run.sh run")
# The first gives the tests, the peft checks and the LoRA tables; the second the upload table. Make
# the second call as soon as the first returns (the machine is given back after 30 s idle; a fresh
# one costs minutes of the lease). No kind is named, so that a call falls back to an H200 when no
# H100 opens; each results.md names its device. A step skipped for time is listed in results.md:
# run its phase alone in a third call.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
gpu=$root/.gpu
junit_version=1.13.4

# A digest of the sources and poms the .gpu jars are built from: the device's copy of the tree has
# no .git, so `run` compares files, and says so when .gpu is older than the tree it runs in.
sources_digest() {
  find pom.xml safetensors cache native lora-kernels cli benchmarks \( -name target -prune \) -o \
    \( -path '*/src/*' -o -name pom.xml \) -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
}

prepare() {
  set -e
  exclude=$(git rev-parse --git-path info/exclude)
  for path in /.gpu/ /.bench/ /.gpu-out/; do
    grep -qxF "$path" "$exclude" 2>/dev/null || echo "$path" >> "$exclude"
  done
  mvn -B -q -o -DskipTests package -pl benchmarks,cli -am
  rm -rf .gpu && mkdir -p .gpu/lib .gpu/test
  make_jre=""
  for candidate in "$root/../shared/gpu/make-jre.sh" /work/shared/gpu/make-jre.sh; do
    [ -x "$candidate" ] && { make_jre=$candidate; break; }
  done
  [ -n "$make_jre" ] || { echo "make-jre.sh not found (../shared/gpu/)" >&2; exit 2; }
  "$make_jre" .gpu/jre.tgz
  cp benchmarks/target/benchmarks.jar .gpu/lib/
  # The cli's own classes, not its shaded jar: everything else it needs is in benchmarks.jar already.
  cp cli/target/safeload-cli-*-SNAPSHOT.jar .gpu/lib/safeload-cli.jar
  picocli_version=$(sed -n 's:.*<picocli.version>\(.*\)</picocli.version>.*:\1:p' pom.xml)
  for artifact in info.picocli:picocli:$picocli_version \
                  org.junit.platform:junit-platform-console-standalone:$junit_version; do
    mvn -B -q -o dependency:copy -Dartifact="$artifact" -DoutputDirectory=.gpu/lib 2>/dev/null \
      || mvn -B -q dependency:copy -Dartifact="$artifact" -DoutputDirectory=.gpu/lib
  done
  mv .gpu/lib/picocli-"$picocli_version".jar .gpu/lib/picocli.jar
  # Test classes with their resources (target/test-classes holds both).
  for module in safetensors cache native lora-kernels cli; do
    cp -r "$module/target/test-classes" ".gpu/test/$module"
  done
  sources_digest > .gpu/sources.sha256
  du -sh .gpu
  size_mib=$(du -sm .gpu | cut -f1)
  [ "$size_mib" -lt 64 ] || { echo ".gpu is ${size_mib} MiB: over the device tool's 64 MiB" >&2; exit 1; }
}

# ---------------------------------------------------------------------------------------------
# run: helpers

out=${OUT:-$root/.gpu-out}
smoke=${SMOKE:-0}
started=$(date +%s)
deadline=$((started + ${RUN_BUDGET:-560}))
torch_python=${TORCH_PYTHON:-${SAFELOAD_TORCH_PYTHON:-python3}}

log() { echo "$*" | tee -a "$out/run.log"; }

results() { python3 "$root/benchmarks/gpu/results.py" "$out" > "$out/results.md.tmp" 2>> "$out/run.log" \
  && mv "$out/results.md.tmp" "$out/results.md"; }

# step NAME LIMIT_S LOGFILE DIR COMMAND...: runs COMMAND in DIR with at most LIMIT_S seconds (less
# if the call's budget is nearly spent), its output appended to LOGFILE; records the command, the
# status and the time, then rewrites results.md. A failed step does not stop the run.
step() {
  local name=$1 limit=$2 logfile=$3 dir=$4
  shift 4
  local left=$((deadline - $(date +%s)))
  if [ "$left" -lt 20 ]; then
    log "== $name: skipped, out of time (RUN_BUDGET)"
    printf '%s\tskipped: out of time\t0\n' "$name" >> "$out/steps.tsv"
    results
    return 1
  fi
  [ "$limit" -le "$left" ] || limit=$left
  { [ "$dir" = . ] || printf 'cd %q && ' "$dir"; printf '%q ' "$@"; echo; } >> "$out/commands.txt"
  log "== $name ($(date -u +%T), at most ${limit} s)"
  echo "== $name: $*" >> "$logfile"
  local t0 status=0
  t0=$(date +%s)
  (cd "$dir" && timeout --kill-after=10 "$limit" "$@") >> "$logfile" 2>&1 || status=$?
  local seconds=$(( $(date +%s) - t0 ))
  local verdict=ok
  if [ "$status" = 124 ] || [ "$status" = 137 ]; then verdict="TIMED OUT after ${limit} s"
  elif [ "$status" != 0 ]; then verdict="FAILED (exit $status)"; fi
  printf '%s\t%s\t%s\n' "$name" "$verdict" "$seconds" >> "$out/steps.tsv"
  log "   $verdict in ${seconds} s (log: ${logfile#"$out"/})"
  [ "$status" = 0 ] || tail -n 15 "$logfile" | sed 's/^/   | /'
  results
  return "$status"
}

# The Java runtime that travels in .gpu/jre.tgz: JAVA_HOME when it is already that (the device
# command extracts it to /tmp/jre), else extracted here into a new temporary folder.
java_runtime() {
  if [ -n "${JAVA_HOME:-}" ] && "$JAVA_HOME/bin/java" -version 2>&1 | grep -Eq 'version "(2[5-9]|[3-9][0-9])'; then
    return
  fi
  [ -f "$gpu/jre.tgz" ] || { echo "no .gpu/jre.tgz: run benchmarks/gpu/run.sh prepare first" >&2; exit 2; }
  jre_dir=$(mktemp -d)
  tar xzf "$gpu/jre.tgz" -C "$jre_dir"
  export JAVA_HOME=$jre_dir/jre
}

emulator() {
  local dir=${EMULATOR_DIR:-$root/native/target/cuda-emulator}
  [ -f "$dir/libcuda.so.1" ] || bash "$root/native/src/test/emulator/build.sh" "$dir" >&2
  [ -f "$dir/libcuda.so.1" ] || { echo "SMOKE=1: the CUDA emulator could not be built in $dir" >&2; exit 2; }
  export LD_LIBRARY_PATH=$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export SAFELOAD_CUBLAS_LIBRARY=$dir/libcublas.so.13
}

# cuBLAS: the loader's, else the CUDA toolkit's or the nvidia-cublas pip package's (torch's), else
# the first found on the disk; .13 before .12. The binding takes a path (SAFELOAD_CUBLAS_LIBRARY).
find_cublas() {
  if [ -n "${SAFELOAD_CUBLAS_LIBRARY:-}" ] || ldconfig -p 2>/dev/null | grep -q 'libcublas.so.1[23] '; then
    return
  fi
  local dirs version dir lib
  dirs="/usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib $("$torch_python" -c \
    'import os, nvidia.cublas as c; print(" ".join(os.path.join(p, "lib") for p in c.__path__))' 2>/dev/null)"
  for version in 13 12; do
    for dir in $dirs; do
      [ -f "$dir/libcublas.so.$version" ] && { export SAFELOAD_CUBLAS_LIBRARY=$dir/libcublas.so.$version; return; }
    done
  done
  for version in 13 12; do
    lib=$(timeout 60 find / \( -path /proc -o -path /sys \) -prune -o -name "libcublas.so.$version" -print 2>/dev/null | head -1)
    [ -n "$lib" ] && { export SAFELOAD_CUBLAS_LIBRARY=$lib; return; }
  done
}

environment() {
  {
    echo "started: $(date -u +%FT%TZ) (budget ${RUN_BUDGET:-560} s)"
    echo "mode: $([ "$smoke" = 1 ] && echo "SMOKE (CUDA emulator, tiny sizes)" || echo full) phases:" \
      "$([ "${SKIP_TESTS:-0}" = 1 ] || echo tests) $([ "${SKIP_UPLOAD:-0}" = 1 ] || echo upload) $([ "${SKIP_LORA:-0}" = 1 ] || echo lora)"
    echo "gpu: $(nvidia-smi --query-gpu=name,memory.total,driver_version,pcie.link.gen.current,pcie.link.width.current \
      --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi answer')"
    echo "torch: $("$torch_python" -c 'import torch, safetensors; print(torch.__version__, "cuda", torch.version.cuda,
      "available" if torch.cuda.is_available() else "NOT available", "safetensors", safetensors.__version__)' 2>&1 | tail -1)"
    echo "java: $("$JAVA_HOME/bin/java" -version 2>&1 | head -1) ($JAVA_HOME)"
    echo "cublas: ${SAFELOAD_CUBLAS_LIBRARY:-from the loader path}"
    echo "bench dir: $bench_dir ($(df -PT "$bench_dir" 2>/dev/null | awk 'NR==2 {print $2 ", " $5 " KiB free"}'))"
    echo "cpu: $(nproc) cores, $(awk '/MemTotal/ {print int($2 / 1048576) " GiB"}' /proc/meminfo)"
    if [ "$(cat "$gpu/sources.sha256" 2>/dev/null)" != "$(sources_digest)" ]; then
      echo "stale: WARNING: .gpu/ was built from other sources than this tree (run benchmarks/gpu/run.sh prepare again)"
    fi
    echo
    nvidia-smi 2>&1 || true
  } > "$out/env.txt" 2>&1
}

# ---------------------------------------------------------------------------------------------
# run: the phases

tests_phase() {
  local lib=$gpu/lib test=$gpu/test
  local cp=$lib/benchmarks.jar:$lib/safeload-cli.jar:$lib/picocli.jar
  for module in safetensors cache native lora-kernels cli; do cp=$cp:$test/$module; done
  local launcher=(java "${java_flags[@]}" -jar "$lib/junit-platform-console-standalone-$junit_version.jar" execute
    --class-path "$cp" --details=tree --disable-banner --disable-ansi-colors --fail-if-no-tests)
  mkdir -p "$out/tests"
  # From each module's folder: some tests use paths relative to it, as under Maven.
  for module in native lora-kernels cli; do
    step "tests: $module (gpu tag)" 300 "$out/tests/$module.log" "$module" "${launcher[@]}" \
      --scan-class-path "$test/$module" --include-tag gpu --reports-dir "$out/tests/junit-$module"
  done
  step "tests: peft merge_and_unload oracle (CPU merge)" 180 "$out/tests/peft-oracle.log" lora-kernels "${launcher[@]}" \
    --select-class dev.safeload.lora.PeftMergeAndUnloadTest --reports-dir "$out/tests/junit-peft-oracle"

  # safeload lora merge --device cuda (and cpu) against peft's merge_and_unload of the same files.
  local seed=$((RANDOM * 32768 + RANDOM))
  local cli=(java "${java_flags[@]}" -cp "$cp" dev.safeload.cli.SafeloadCli)
  for dora in 0 1; do
    local label dir
    label=$([ $dora = 1 ] && echo dora || echo lora)-seed$seed
    dir=$work/peft-$label
    rm -rf "$dir"
    step "peft check $label: fixture" 180 "$out/tests/peft-check.log" . "$torch_python" \
      lora-kernels/src/test/resources/fixtures/peft_merge.py "$dir" "$seed" "$dora" || continue
    for device in cuda cpu; do
      step "peft check $label: lora merge --device $device" 120 "$out/tests/peft-check.log" . "${cli[@]}" lora merge \
        --base "$dir/base/model.safetensors" --adapter "$dir/adapter" --device "$device" -o "$dir/ours-$device.safetensors"
    done
    step "peft check $label: compare" 60 "$out/checks.log" . python3 benchmarks/gpu/compare_merged.py "$label" \
      "$dir/merged/model.safetensors" "$dir/ours-cuda.safetensors" "$dir/ours-cpu.safetensors"
    rm -rf "$dir"
  done
}

upload_phase() {
  mkdir -p "$out/upload"
  local file=$work/model.safetensors log=$out/upload/bench.log
  local bench=(java "${java_flags[@]}" -Xmx2g -cp "$gpu/lib/benchmarks.jar" dev.safeload.bench.cuda.CudaUploadBench)
  local gib=${BENCH_GIB:-8.5} hidden=4096 h2d=8g peer_device=cuda
  if [ "$smoke" = 1 ]; then
    gib=${BENCH_GIB:-0.0625} hidden=1024 h2d=256m
    "$torch_python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null || peer_device=cpu
  fi
  cat "$out/device.txt" >> "$log"
  step "upload: write the ${gib} GiB file" 240 "$log" . python3 benchmarks/cuda/make_model.py "$file" "$gib" "$hidden" || return
  step "upload: pinned H2D ceiling" 60 "$log" . "${bench[@]}" h2d --bytes "$h2d" --streams 2
  step "upload: warm the page cache" 120 "$log" . dd if="$file" of=/dev/null bs=16M
  step "upload: warm, pread" 120 "$log" . "${bench[@]}" upload "$file" --backend pread --repeat 3 --name upload_warm_pread --verify
  step "upload: warm, mmap" 120 "$log" . "${bench[@]}" upload "$file" --backend mmap --repeat 3 --name upload_warm_mmap
  step "upload: peer warm 0" 120 "$log" . "$torch_python" benchmarks/cuda/peer_load.py "$file" peer_warm_run0 "$peer_device"
  step "upload: peer warm 1" 120 "$log" . "$torch_python" benchmarks/cuda/peer_load.py "$file" peer_warm_run1 "$peer_device"
  local cold
  # Ceiling, ours, the peer, then the second backend: if the budget runs out, the last goes first.
  for cold in "read raw_read_cold" "upload_pread upload_cold_pread" "peer peer_cold" "upload_mmap upload_cold_mmap"; do
    set -- $cold
    step "upload: drop the file's pages" 60 "$log" . python3 benchmarks/cuda/drop_cache.py "$file"
    case $1 in
      read) step "upload: raw cold read (ceiling)" 120 "$log" . "${bench[@]}" read "$file" --threads 8 --name "$2" ;;
      upload_*) step "upload: cold, ${1#upload_}" 180 "$log" . "${bench[@]}" upload "$file" --backend "${1#upload_}" --name "$2" ;;
      peer) step "upload: peer cold" 180 "$log" . "$torch_python" benchmarks/cuda/peer_load.py "$file" "$2" "$peer_device" ;;
    esac
  done
  rm -f "$file"
}

lora_phase() {
  local dir=$out/lora
  mkdir -p "$dir"
  cp "$out/device.txt" "$dir/"
  local jar=$gpu/lib/benchmarks.jar layers=${LORA_LAYERS:-32} d2d=4g gemm=8192
  # JMH's own lock (/tmp/jmh.lock) is ignored in smoke runs only: a shared build box may hold it,
  # and emulator figures are no measurement anyway.
  local jmh=(java -jar "$jar")
  local merge_it=(-wi 2 -w 1s -i 5 -r 1s) serve_it=(-wi 1 -w 1s -i 4 -r 1s) merge_shape=() serve_shape=()
  local peft_args=(--layers "$layers")
  if [ "$smoke" = 1 ]; then
    layers=${LORA_LAYERS:-1} d2d=64m gemm=128
    jmh=(java -Djmh.ignoreLock=true -jar "$jar") merge_it=(-wi 0 -i 1 -r 1s) serve_it=(-wi 0 -i 1 -r 1s)
    merge_shape=(-p hidden=128 -p mlp=344) serve_shape=(-p hidden=128)
    peft_args=(--layers "$layers" --hidden 128 --mlp 344 --repeats 1)
    "$torch_python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null \
      || peft_args+=(--device cpu)
  fi
  step "lora: D2D roofline" 60 "$dir/ceilings.log" . java "${java_flags[@]}" -cp "$jar" \
    dev.safeload.bench.cuda.CudaUploadBench d2d --bytes "$d2d"
  step "lora: F16 GEMM ceiling" 60 "$dir/ceilings.log" . java "${java_flags[@]}" -cp "$jar" \
    dev.safeload.bench.cuda.CudaUploadBench gemm --n "$gemm"
  # JMH writes its JSON only at the end: one run per dtype and per token count, so that a run cut
  # off by its time limit loses its own rows only.
  local dtype tokens
  for dtype in F16 BF16; do
    step "lora: JMH CUDA merge ($layers layers, $dtype)" 150 "$dir/jmh-gpu-merge.log" . "${jmh[@]}" \
      'dev\.safeload\.bench\.lora\.CudaMergeBenchmark\..*' -p layers="$layers" -p dtype="$dtype" "${merge_shape[@]}" \
      "${merge_it[@]}" -rf json -rff "$dir/jmh-gpu-merge-$dtype.json"
  done
  for tokens in 64 1024; do
    step "lora: JMH CUDA serving ($tokens tokens, 1/8/64 adapters)" 120 "$dir/jmh-gpu-serving.log" . "${jmh[@]}" \
      'dev\.safeload\.bench\.lora\.CudaServingBenchmark\..*' -p tokens="$tokens" "${serve_shape[@]}" "${serve_it[@]}" \
      -rf json -rff "$dir/jmh-gpu-serving-$tokens.json"
  done
  step "lora: peft merge_adapter peer" 240 "$dir/peft.log" . "$torch_python" benchmarks/lora/peft_bench.py \
    "$dir/peft.json" "${peft_args[@]}"
  # The CPU backend on the same machine (7B-wide layers only: a few seconds per operation on a small box).
  local cpu_it=(-wi 1 -w 2s -i 3 -r 2s)
  [ "$smoke" = 1 ] && cpu_it=(-wi 0 -i 1 -r 1s)
  step "lora: JMH CPU merge (1 layer, all cores)" 150 "$dir/jmh-cpu-merge.log" . "${jmh[@]}" \
    'dev\.safeload\.bench\.lora\.CpuMergeBenchmark\..*' -p layers=1 "${cpu_it[@]}" -rf json -rff "$dir/jmh-cpu-merge.json"
}

run() {
  mkdir -p "$out"
  # A previous run's files in the same OUT would be read as this run's.
  rm -rf "$out/steps.tsv" "$out/commands.txt" "$out/checks.log" "$out/run.log" "$out/results.md" "$out/env.txt" \
    "$out/device.txt" "$out/device.log" "$out/tests" "$out/upload" "$out/lora"
  java_runtime
  export PATH=$JAVA_HOME/bin:$PATH
  export SAFELOAD_TORCH_PYTHON=$torch_python  # PythonOracle's torch interpreter, for the tests
  [ "$smoke" = 1 ] && emulator
  find_cublas
  work=${BENCH_DIR:-$root/.bench}
  bench_dir=$work
  mkdir -p "$work"
  environment
  java_flags=(--enable-native-access=ALL-UNNAMED -Dsafeload.gpu.required=true -Dsafeload.cuda.leakDetection=true)
  {
    echo "# env: SMOKE=$smoke SKIP_TESTS=${SKIP_TESTS:-0} SKIP_UPLOAD=${SKIP_UPLOAD:-0} SKIP_LORA=${SKIP_LORA:-0}" \
      "JAVA_HOME=$JAVA_HOME LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-} SAFELOAD_CUBLAS_LIBRARY=${SAFELOAD_CUBLAS_LIBRARY:-}"
    echo "# entry point: benchmarks/gpu/run.sh run"
  } > "$out/commands.txt"
  log "safeload GPU run: $(sed -n 2p "$out/env.txt"); output in $out"
  grep '^stale:' "$out/env.txt" | tee -a "$out/run.log"
  step "device" 60 "$out/device.log" . java "${java_flags[@]}" -cp "$gpu/lib/benchmarks.jar" \
    dev.safeload.bench.cuda.CudaUploadBench device
  grep '^DEVICE ' "$out/device.log" > "$out/device.txt"
  log "   $(cat "$out/device.txt")"
  [ "${SKIP_TESTS:-0}" = 1 ] || tests_phase
  [ "${SKIP_UPLOAD:-0}" = 1 ] || upload_phase
  [ "${SKIP_LORA:-0}" = 1 ] || lora_phase
  results
  [ -n "${jre_dir:-}" ] && rm -rf "$jre_dir"
  log "done in $(( $(date +%s) - started )) s; failed or skipped steps: $(grep -vc $'\tok\t' "$out/steps.tsv")"
  echo
  # The device tool returns the last 12,000 characters: the tables, not the long command lines
  # (those are in results.md, which comes back whole).
  sed '/^## Commands/,$d' "$out/results.md"
  ! grep -qv $'\tok\t' "$out/steps.tsv"
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: $0 prepare|run   (see the comments at the top)" >&2; exit 2 ;;
esac
