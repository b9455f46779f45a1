#!/usr/bin/env bash
# Runs the safetensors benchmarks side by side with their peer and their ceilings, on the same files,
# in one go, and prints the table (benchmarks/README.md, "## safetensors", says what each row does).
#
#   benchmarks/safetensors/run.sh [--quick] [--keep] [--no-build] [--dir DIR] [--out DIR]
#
#   --quick     fewer, shorter iterations (a smoke run; figures not for quoting)
#   --keep      leave the fixture files (2.1 GB) in place instead of deleting them at the end
#   --no-build  use benchmarks/target/benchmarks.jar as it is
#   --dir DIR   where to write the fixture files (default: a new folder under ${TMPDIR:-/tmp});
#               files already there are reused
#   --out DIR   where the results go (default: bench-out/safetensors-<UTC time>, git-ignored)
#
# Needs: a JDK 25 (found by bin/java25-home, as ./safeload finds it), Maven (unless --no-build), python3 with
# safetensors, numpy and ml_dtypes (numpy has no bfloat16; the reference's numpy framework needs
# ml_dtypes to hand out BF16 tensors), and about 5 GB of free memory: the 2.1 GB model file must
# stay in the page cache for the "warm" figures to mean anything.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/benchmarks/safetensors"
source "$root/benchmarks/jmh-retry.sh"

quick=0 keep=0 build=1 dir="" out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --keep) keep=1 ;;
    --no-build) build=0 ;;
    --dir) dir=$2; shift ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

jdk=$("$root/bin/java25-home") || { echo "run.sh: no JDK 25 or newer found; set SAFELOAD_JAVA_HOME or JAVA_HOME to one" >&2; exit 2; }

python3 -c 'import safetensors, numpy' 2>/dev/null \
  || { echo "run.sh: python3 needs safetensors and numpy: python3 -m pip install safetensors numpy ml_dtypes" >&2; exit 2; }
if ! python3 -c 'import ml_dtypes' 2>/dev/null; then
  echo "run.sh: installing ml_dtypes (the peer's bfloat16 dtype)..." >&2
  python3 -m pip install --quiet --disable-pip-version-check ml_dtypes >&2 \
    || { echo "run.sh: python3 -m pip install ml_dtypes failed" >&2; exit 2; }
fi

jar="$root/benchmarks/target/benchmarks.jar"
if [ "$build" = 1 ]; then
  echo "== building $jar" >&2
  (cd "$root" && mvn -B -q -DskipTests package -pl benchmarks -am >&2)
fi
[ -f "$jar" ] || { echo "run.sh: $jar is missing (run without --no-build)" >&2; exit 2; }

out=${out:-"$root/bench-out/safetensors-$(date -u +%Y%m%dT%H%M%SZ)"}
mkdir -p "$out"
if [ -z "$dir" ]; then
  dir=$(mktemp -d "${TMPDIR:-/tmp}/safeload-stbench.XXXXXX")
  made_dir=1
else
  mkdir -p "$dir"
  made_dir=0
fi
cleanup() {
  if [ "$keep" = 0 ]; then
    rm -f "$dir/header.safetensors" "$dir/model.safetensors"
    if [ "$made_dir" = 1 ]; then rmdir "$dir" 2>/dev/null || true; fi
  else
    echo "kept the fixture files in $dir" >&2
  fi
}
trap cleanup EXIT

if [ -f "$dir/header.safetensors" ] && [ -f "$dir/model.safetensors" ]; then
  echo "== reusing the fixture files in $dir" >&2
  python3 -c 'import json,sys; sys.path.insert(0, sys.argv[1]); import make_fixtures as m
print(json.dumps({k: m.describe(sys.argv[2] + "/" + k + ".safetensors") for k in ("header", "model")}, indent=2))' \
    "$here" "$dir" > "$out/fixtures.json"
else
  echo "== writing the fixture files with the reference writer into $dir" >&2
  python3 "$here/make_fixtures.py" "$dir" > "$out/fixtures.json"
fi

# Warm page cache for both sides: read every byte once now; nothing below evicts it unless the
# machine runs short of memory (the table's notes print MemAvailable before and after).
cat "$dir/header.safetensors" "$dir/model.safetensors" > /dev/null
grep MemAvailable /proc/meminfo | sed 's/^/before: /' > "$out/memory.txt"

if [ "$quick" = 1 ]; then
  jmh_iterations=(-wi 1 -w 1s -i 3 -r 1s); peer_iterations=(--warmups 1 --iterations 3 --iteration-seconds 1)
else
  jmh_iterations=(-wi 3 -w 2s -i 8 -r 2s); peer_iterations=(--warmups 3 --iterations 8 --iteration-seconds 2)
fi

# Each row's JMH benchmarks run right before the peer's same row, so that both sides see the same
# neighbours on a shared machine; the load average is logged around every step.
jmh() {  # jmh NAME REGEX: one JMH run of the benchmarks matching REGEX, results in jmh-NAME.json
  echo "== JMH $1 on $jdk ($(cut -d' ' -f1-3 /proc/loadavg))" >&2
  echo "before jmh $1: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/load.txt"
  jmh_retry "$out/jmh-$1.log" "$jdk/bin/java" -jar "$jar" "$2" "${jmh_iterations[@]}" \
    -p modelFile="$dir/model.safetensors" -p headerFile="$dir/header.safetensors" -rf json -rff "$out/jmh-$1.json"
  grep -E '^(# Benchmark:|Result )' "$out/jmh-$1.log" >&2 || true
  [ -s "$out/jmh-$1.json" ] || { echo "run.sh: JMH $1 failed, see $out/jmh-$1.log" >&2; exit 1; }
}
peer() {  # peer ROW: the Python peer's ROW, results in peer-ROW.json
  echo "== Python peer $1 ($(cut -d' ' -f1-3 /proc/loadavg))" >&2
  echo "before peer $1: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/load.txt"
  python3 "$here/peer.py" --only "$1" --header-file "$dir/header.safetensors" --model-file "$dir/model.safetensors" \
    "${peer_iterations[@]}" > "$out/peer-$1.json"
}
: > "$out/load.txt"
bench='dev\.safeload\.bench\.safetensors\.'
jmh header "${bench}HeaderOpenBenchmark\..*"
peer header
jmh read "${bench}(MemoryCopyCeiling|ReadEveryTensorBenchmark)\..*"
peer read
jmh convert "${bench}Bf16ToF32Benchmark\..*"
peer convert
echo "at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/load.txt"

grep MemAvailable /proc/meminfo | sed 's/^/after: /' >> "$out/memory.txt"
{
  echo "command: benchmarks/safetensors/run.sh $([ "$quick" = 1 ] && echo --quick)"
  echo "java: $("$jdk/bin/java" -version 2>&1 | head -1)"
  echo "python: $(python3 --version 2>&1), safetensors $(python3 -c 'import safetensors; print(safetensors.__version__)'), numpy $(python3 -c 'import numpy; print(numpy.__version__)'), ml_dtypes $(python3 -c 'import ml_dtypes; print(ml_dtypes.__version__)')"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; kernel $(uname -r)"
  cat "$out/memory.txt"
  sed "s/^/load average (1, 5, 15 min) /" "$out/load.txt"
} > "$out/environment.txt"
python3 "$here/report.py" "$out" | tee "$out/table.md"
echo "results in $out" >&2
