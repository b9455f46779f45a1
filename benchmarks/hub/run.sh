#!/usr/bin/env bash
# Hub download benchmark (issue 3): a 2 GiB LFS file and a 200-file snapshot served by one loopback
# hub (the FakeHub test fixture, run by dev.safeload.cache.testing.FakeHubMain), fetched in the same
# run by:
#   curl            the ceiling: one connection for the big file, 8 parallel transfers for the
#                   snapshot, no hashing, no cache bookkeeping;
#   huggingface_hub the peer: snapshot_download into a fresh cache (HF_HUB_DISABLE_XET=1);
#   safeload        `java -jar cli/target/safeload.jar download` into a fresh cache (JVM start
#                   included; sha256 verification of LFS blobs included);
#   safeload in-JVM the same download timed inside a started JVM (SnapshotDownloadTiming), which
#                   separates the download from the JVM's start.
#   ./safeload      the launcher, which starts the JVM with its own AOT cache (cli/target/safeload.aot,
#                   trained on the offline demo): what a user of ./safeload download gets;
#   safeload+AOT    the same CLI command with -XX:AOTCache (JEP 483/514, JDK 25): the classes loaded
#                   and linked, and the method profiles, of one training download of a DIFFERENT
#                   small repo (bench/train) are mapped at start instead of being redone. The cache
#                   is built once per jar and JDK by `java -XX:AOTCacheOutput=F -jar safeload.jar
#                   download ...`; `java -jar` alone does not use it, so it is a separate row.
# Every tool starts from an empty destination; the server's files stay in the page cache.
# Prints the median wall time of REPS runs and the ratios.
#
# Usage: benchmarks/hub/run.sh            (SIZE_MB=2048 FILES=200 REPS=3 by default)
#        SIZE_MB=256 FILES=50 REPS=1 benchmarks/hub/run.sh    (a quick check)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SIZE_MB=${SIZE_MB:-2048}
FILES=${FILES:-200}
REPS=${REPS:-3}
# A JDK 25 found the way ./safeload finds it (bin/java25-home); JAVA=... overrides.
JAVA=${JAVA:-$("$ROOT/bin/java25-home" 2>/dev/null)/bin/java}
[ -x "$JAVA" ] || { echo "$(basename "$0"): no JDK 25 or newer found; set JAVA, SAFELOAD_JAVA_HOME or JAVA_HOME" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/safeload-hub-bench.XXXXXX")
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$ROOT" && mvn -B -q -o -DskipTests package)
fi
JAR="$ROOT/cli/target/safeload.jar"
SERVER_CP="$ROOT/cache/target/test-classes:$JAR"

echo "generating data in $WORK: ${SIZE_MB} MiB file, $FILES-file snapshot" >&2
mkdir -p "$WORK/data/bench/big" "$WORK/data/bench/many"
head -c "$((SIZE_MB * 1024 * 1024))" /dev/urandom > "$WORK/data/bench/big/model.safetensors"
python3 - "$WORK/data/bench/many" "$FILES" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(0)
for i in range(n):
    # a model-like mix: many small text files, some shards of a few MB
    size = rng.choice([200, 2_000, 20_000, 200_000, 2_000_000, 6_000_000])
    sub = "shards" if size >= 2_000_000 else ("tokenizer" if i % 3 == 0 else "")
    ext = ".safetensors" if size >= 2_000_000 else ".json"
    path = os.path.join(root, sub, f"f{i:03d}{ext}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(rng.randbytes(size))
PY
# The AOT training repo: a few files of the same kinds, other bytes and names than bench/many.
python3 - "$WORK/data/bench/train" <<'PY'
import os, random, sys
rng = random.Random(1)
for i, size in enumerate([200, 2_000, 20_000, 200_000, 2_000_000, 3_000_000] * 4):
    ext = ".safetensors" if size >= 2_000_000 else ".json"
    path = os.path.join(sys.argv[1], "t" if i % 2 else "", f"train{i:02d}{ext}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(rng.randbytes(size))
PY
SNAP_BYTES=$(du -sb "$WORK/data/bench/many" | cut -f1)

"$JAVA" -cp "$SERVER_CP" dev.safeload.cache.testing.FakeHubMain "$WORK/data" "$WORK/endpoint" > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 600); do [ -s "$WORK/endpoint" ] && break; sleep 0.2; done
EP=$(cat "$WORK/endpoint")
echo "hub at $EP" >&2
AOT="$WORK/safeload.aot"
"$JAVA" -XX:AOTCacheOutput="$AOT" -jar "$JAR" download bench/train --endpoint "$EP" \
  --cache-dir "$WORK/train-cache" > "$WORK/aot.log" 2>&1
echo "AOT cache: $(du -h "$AOT" | cut -f1) from one download of bench/train" >&2

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

run_curl_big() {
  curl -sf -o "$WORK/out/model.safetensors" "$EP/bench/big/resolve/main/model.safetensors"
}
run_curl_many() {
  : > "$WORK/curl.cfg"
  (cd "$WORK/data/bench/many" && find . -type f | sed 's|^\./||') | while read -r f; do
    printf 'url = "%s/bench/many/resolve/main/%s"\noutput = "%s/out/%s"\n' "$EP" "$f" "$WORK" "$f" >> "$WORK/curl.cfg"
  done
  curl -sf --create-dirs --parallel --parallel-max 8 -K "$WORK/curl.cfg"
}
run_hf() {
  HF_ENDPOINT="$EP" HF_HOME="$WORK/hfhome" HF_HUB_DISABLE_XET=1 HF_HUB_DISABLE_TELEMETRY=1 \
    HF_HUB_DISABLE_PROGRESS_BARS=1 python3 -c \
    'import sys; from huggingface_hub import snapshot_download; snapshot_download(sys.argv[1], cache_dir=sys.argv[2])' \
    "bench/$1" "$WORK/out" > /dev/null
}
run_safeload_jvm() {
  "$JAVA" -cp "$ROOT/benchmarks/target/benchmarks.jar" dev.safeload.bench.hub.SnapshotDownloadTiming \
    "$EP" "bench/$1" "$WORK/out" | tee -a "$WORK/inproc.$1" > /dev/null
}
run_safeload() {
  "$JAVA" -jar "$JAR" download "bench/$1" --endpoint "$EP" --cache-dir "$WORK/out" > /dev/null
}
run_launcher() {
  "$ROOT/safeload" download "bench/$1" --endpoint "$EP" --cache-dir "$WORK/out" > /dev/null
}
run_safeload_aot() {
  "$JAVA" -XX:AOTCache="$AOT" -jar "$JAR" download "bench/$1" --endpoint "$EP" --cache-dir "$WORK/out" > /dev/null
}

measure() { # name case command...
  local name=$1 case=$2; shift 2
  for _ in $(seq "$REPS"); do
    rm -rf "$WORK/out"; mkdir -p "$WORK/out"; sync
    local t0 t1; t0=$(now); "$@"; t1=$(now)
    echo "$t1 - $t0" | bc -l
  done | median > "$WORK/t.$name.$case"
}

# The launcher's own AOT cache (cli/target/safeload.aot, trained on the offline demo, not on these
# repos): made now if the jar is newer, so that every measured run uses it.
"$ROOT/safeload" --version > /dev/null
for _ in $(seq 120); do
  [ -f "$ROOT/cli/target/safeload.aot" ] && [ ! "$JAR" -nt "$ROOT/cli/target/safeload.aot" ] \
    && [ ! -d "$ROOT/cli/target/safeload.aot.lock" ] && break
  sleep 0.5
done

for case in big many; do
  measure curl "$case" "run_curl_$case"
  measure launcher "$case" run_launcher "$case"
  measure huggingface_hub "$case" run_hf "$case"
  measure safeload "$case" run_safeload "$case"
  measure safeload_aot "$case" run_safeload_aot "$case"
  measure safeload_jvm "$case" run_safeload_jvm "$case"
done

BIG_BYTES=$((SIZE_MB * 1024 * 1024))
printf '\n| case | bytes | curl (ceiling) | huggingface_hub (peer) | safeload | safeload / ceiling (speed) | safeload / peer (speed) |\n'
printf '|---|---|---|---|---|---|---|\n'
for case in big many; do
  c=$(cat "$WORK/t.curl.$case"); h=$(cat "$WORK/t.huggingface_hub.$case"); s=$(cat "$WORK/t.safeload.$case")
  bytes=$([ "$case" = big ] && echo "$BIG_BYTES" || echo "$SNAP_BYTES")
  label=$([ "$case" = big ] && echo "1 file, ${SIZE_MB} MiB" || echo "$FILES files")
  printf '| %s | %s | %.2f s (%.0f MB/s) | %.2f s (%.0f MB/s) | %.2f s (%.0f MB/s) | %.2fx | %.2fx |\n' \
    "$label" "$bytes" "$c" "$(echo "$bytes/$c/1000000" | bc -l)" "$h" "$(echo "$bytes/$h/1000000" | bc -l)" \
    "$s" "$(echo "$bytes/$s/1000000" | bc -l)" "$(echo "$c/$s" | bc -l)" "$(echo "$h/$s" | bc -l)"
done
for case in big many; do
  c=$(cat "$WORK/t.curl.$case"); h=$(cat "$WORK/t.huggingface_hub.$case"); a=$(cat "$WORK/t.safeload_aot.$case")
  printf 'safeload with -XX:AOTCache, %s: %.2f s = %.2fx ceiling, %.2fx peer\n' "$case" "$a" \
    "$(echo "$c/$a" | bc -l)" "$(echo "$h/$a" | bc -l)"
done
for case in big many; do
  c=$(cat "$WORK/t.curl.$case"); h=$(cat "$WORK/t.huggingface_hub.$case"); l=$(cat "$WORK/t.launcher.$case")
  printf './safeload (the launcher, with its own AOT cache), %s: %.2f s = %.2fx ceiling, %.2fx peer\n' "$case" "$l" \
    "$(echo "$c/$l" | bc -l)" "$(echo "$h/$l" | bc -l)"
done
for case in big many; do
  printf 'safeload in-JVM, %s: median %.2f s of the whole command; the download itself: %s\n' "$case" \
    "$(cat "$WORK/t.safeload_jvm.$case")" "$(awk '{print $1}' "$WORK/inproc.$case" | sort -n | tr '\n' ' ')s"
done
echo "(median of $REPS runs each; $(nproc) CPUs; $("$JAVA" -version 2>&1 | head -1); curl $(curl --version | head -1 | cut -d' ' -f2); huggingface_hub $(python3 -c 'import huggingface_hub; print(huggingface_hub.__version__)'))"
