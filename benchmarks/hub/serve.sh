#!/usr/bin/env bash
# Mirror server benchmark (`safeload serve`): how fast a cache is handed out over loopback.
# One cache holds a SIZE_MB LFS file and a FILES-file snapshot (the mix of benchmarks/hub/run.sh).
# In the same run, curl fetches them from:
#   file://         the ceiling: curl reading the same blobs from the page cache, no HTTP;
#   safeload serve  our mirror (`java -jar cli/target/safeload.jar serve --port 0`), through
#                   /resolve/ with its hub headers;
#   http.server     the peer: `python3 -m http.server` serving the same blobs folder (what a
#                   quick static mirror looks like).
# The big file is one transfer; the snapshot is 8 parallel transfers (curl --parallel).
# Prints the median of REPS runs per row and the ratios to the ceiling.
#
# Usage: benchmarks/hub/serve.sh            (SIZE_MB=1024 FILES=200 REPS=5 by default)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SIZE_MB=${SIZE_MB:-1024}
FILES=${FILES:-200}
REPS=${REPS:-5}
# A JDK 25 found the way ./safeload finds it (bin/java25-home); JAVA=... overrides.
JAVA=${JAVA:-$("$ROOT/bin/java25-home" 2>/dev/null)/bin/java}
[ -x "$JAVA" ] || { echo "$(basename "$0"): no JDK 25 or newer found; set JAVA, SAFELOAD_JAVA_HOME or JAVA_HOME" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/safeload-serve-bench.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$ROOT" && mvn -B -q -o -DskipTests package)
fi
JAR="$ROOT/cli/target/safeload.jar"

echo "building a hub cache in $WORK: ${SIZE_MB} MiB file, $FILES-file snapshot" >&2
python3 - "$WORK/hub" "$SIZE_MB" "$FILES" "$WORK/list" <<'PY'
import hashlib, os, random, sys
root, size_mb, n, listing = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng = random.Random(0)
def put(repo, commit, path, data, lfs):
    etag = hashlib.sha256(data).hexdigest() if lfs else hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    blobs = os.path.join(root, repo, "blobs"); os.makedirs(blobs, exist_ok=True)
    with open(os.path.join(blobs, etag), "wb") as f: f.write(data)
    link = os.path.join(root, repo, "snapshots", commit, path); os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink(os.path.relpath(os.path.join(blobs, etag), os.path.dirname(link)), link)
    return etag
def ref(repo, commit):
    os.makedirs(os.path.join(root, repo, "refs"), exist_ok=True)
    with open(os.path.join(root, repo, "refs", "main"), "w") as f: f.write(commit)
big = "1" * 40
put("models--bench--big", big, "model.safetensors", os.urandom(size_mb << 20), True); ref("models--bench--big", big)
many = "2" * 40
with open(listing, "w") as out:
    for i in range(n):
        size = rng.choice([200, 2_000, 20_000, 200_000, 2_000_000, 6_000_000])
        sub = "shards/" if size >= 2_000_000 else ("tokenizer/" if i % 3 == 0 else "")
        path = f"{sub}f{i:03d}" + (".safetensors" if size >= 2_000_000 else ".json")
        etag = put("models--bench--many", many, path, rng.randbytes(size), size >= 2_000_000)
        out.write(f"{path} {etag}\n")
ref("models--bench--many", many)
PY
SNAP_BYTES=$(du -sbL "$WORK/hub/models--bench--many/snapshots" | cut -f1)
cat "$WORK/hub"/*/blobs/* > /dev/null   # page cache warm for every row

"$JAVA" -jar "$JAR" serve --cache-dir "$WORK/hub" --port 0 > "$WORK/serve.out" 2> "$WORK/serve.err" &
PIDS+=($!)
for _ in $(seq 300); do [ -s "$WORK/serve.out" ] && break; sleep 0.1; done
OURS=$(head -1 "$WORK/serve.out" | sed 's/.* at //')
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$WORK/hub" && exec python3 -m http.server "$PORT" --bind 127.0.0.1 > "$WORK/peer.log" 2>&1) &
PIDS+=($!)
PEER="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf -o /dev/null "$PEER/" && break; sleep 0.1; done
echo "safeload serve at $OURS, http.server at $PEER" >&2

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
BIGBLOB=$(ls "$WORK/hub/models--bench--big/blobs/")
big_url() {
  case $1 in
    file) echo "file://$WORK/hub/models--bench--big/blobs/$BIGBLOB" ;;
    ours) echo "$OURS/bench/big/resolve/main/model.safetensors" ;;
    peer) echo "$PEER/models--bench--big/blobs/$BIGBLOB" ;;
  esac
}
many_cfg() {
  while read -r path etag; do
    case $1 in
      file) u="file://$WORK/hub/models--bench--many/blobs/$etag" ;;
      ours) u="$OURS/bench/many/resolve/main/$path" ;;
      peer) u="$PEER/models--bench--many/blobs/$etag" ;;
    esac
    printf 'url = "%s"\noutput = "/dev/null"\n' "$u"
  done < "$WORK/list" > "$WORK/$1.cfg"
}
for who in file ours peer; do many_cfg "$who"; done

time_big() { local t0; t0=$(now); curl -sf -o /dev/null "$(big_url "$1")"; echo "$(now) - $t0" | bc -l; }
time_many() { local t0; t0=$(now); curl -sf --no-progress-meter --parallel --parallel-max 8 -K "$WORK/$1.cfg"; echo "$(now) - $t0" | bc -l; }

declare -A T
for who in file ours peer; do
  T[big_$who]=$(for _ in $(seq "$REPS"); do time_big "$who"; done | median)
  T[many_$who]=$(for _ in $(seq "$REPS"); do time_many "$who"; done | median)
done

mb() { echo "$1 / 1048576 / $2" | bc -l; }
BIG_BYTES=$((SIZE_MB << 20))
printf '\n%-34s %10s %10s %14s\n' "row (median of $REPS)" "seconds" "MiB/s" "x ceiling"
for row in big many; do
  bytes=$([ $row = big ] && echo $BIG_BYTES || echo "$SNAP_BYTES")
  label=$([ $row = big ] && echo "${SIZE_MB} MiB file" || echo "$FILES files, 8 parallel")
  for who in file ours peer; do
    name=$(case $who in file) echo "curl file:// (ceiling)";; ours) echo "safeload serve";; peer) echo "python3 -m http.server (peer)";; esac)
    t=${T[${row}_$who]}
    printf '%-34s %10.3f %10.0f %14.2f\n' "$label: $name" "$t" "$(mb "$bytes" "$t")" "$(echo "${T[${row}_file]} / $t" | bc -l)"
  done
done
