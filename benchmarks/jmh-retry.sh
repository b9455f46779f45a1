# Sourced by the benchmark scripts. JMH allows one run per machine (/tmp/jmh.lock): on a shared box
# a run that finds the lock taken waits for the other one to end and starts again, rather than
# measuring beside it.
#   jmh_retry LOG COMMAND...   runs COMMAND (a JMH invocation) with its output in LOG
jmh_retry() {
  local log=$1 attempt
  shift
  for attempt in $(seq 1 60); do
    "$@" > "$log" 2>&1 || true
    grep -q 'Unable to acquire the JMH lock' "$log" || return 0
    echo "   another JMH run holds /tmp/jmh.lock; waiting 20 s (attempt $attempt)" >&2
    sleep 20
  done
}
