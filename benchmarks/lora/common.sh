# Shared by run-cpu.sh and run-gpu.sh (sourced): options, the JDK, the jar, and one JMH run.
# The caller sets `layers` (its default) and `usage_lines` before sourcing, passing "$@".
source "$root/benchmarks/jmh-retry.sh"
quick=0 build=1 out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --layers) layers=$2; shift ;;
    --no-build) build=0 ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n "$usage_lines" "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "$(basename "$0"): unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
jdk=$("$root/bin/java25-home") || { echo "$(basename "$0"): no JDK 25 or newer found; set SAFELOAD_JAVA_HOME or JAVA_HOME" >&2; exit 2; }
jar="$root/benchmarks/target/benchmarks.jar"
if [ "$quick" = 1 ]; then it=(-wi 1 -w 1s -i 3 -r 1s); else it=(-wi 3 -w 2s -i 6 -r 3s); fi

run() {  # run NAME REGEX [JMH args...]: results in $out/jmh-NAME.json and .log
  local name=$1 regex=$2; shift 2
  echo "== $name ($(cut -d' ' -f1-3 /proc/loadavg))" >&2
  echo "before $name: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/load.txt"
  jmh_retry "$out/jmh-$name.log" "$jdk/bin/java" -jar "$jar" "$regex" "${it[@]}" "$@" -rf json -rff "$out/jmh-$name.json"
  grep -E '^(# Benchmark:|# Parameters:|Result )' "$out/jmh-$name.log" >&2 || true
  [ -s "$out/jmh-$name.json" ] || { echo "$name failed: see $out/jmh-$name.log" >&2; exit 1; }
}
