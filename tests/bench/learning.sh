#!/usr/bin/env bash
# How well wp learns memory: 12 synthetic jobs (wp_usejob) that each touch
# 50 to 400 MiB, with +-5% noise from run to run, declare three times what
# they use and burn little CPU. They run 10 times against a fresh database
# under a 2 GiB memory cap. Prints, per run, the makespan and the sum of the
# admitted memory against the declared; then, over every attempt that carried
# a memory prediction, the share within [actual, 1.25 x actual], the
# under-predictions and the OOM kills. Goals: >= 90% within, and no OOM kill
# of a job admitted below its declaration. Builds nothing; not part of CI:
# timing belongs in benchmarks.
#
#   tests/bench/learning.sh [path/to/wp] [path/to/wp_usejob]
#
# Needs the sqlite3 shell (apt-get install sqlite3). Set WP_BENCH_FLAGS for
# more `wp run` flags (e.g. "--cgroup off" to measure from /proc), and
# WP_BENCH_KEEP=1 to keep the temporary directory (manifest, logs, database).
# Each job touches its memory over 400 ms, not at once, and burns little CPU:
# memory, not CPU, is what the run is short of, so the makespan shows what
# learning memory is worth.
set -euo pipefail
wp=${1:-build/release/wp}
usejob=${2:-build/release/tests/wp_usejob}
runs=10
for binary in "$wp" "$usejob"; do
  if [[ ! -x $binary ]]; then
    echo "learning.sh: $binary not found; build it first (cmake --preset release &&" \
      "cmake --build build/release)" >&2
    exit 2
  fi
done
if ! command -v sqlite3 > /dev/null; then
  echo "learning.sh: the sqlite3 shell is not installed (apt-get install sqlite3)" >&2
  exit 2
fi
wp=$(realpath "$wp")
usejob=$(realpath "$usejob")
work=$(mktemp -d)
trap '[[ -n ${WP_BENCH_KEEP:-} ]] || rm -rf "$work"' EXIT
db=$work/wp.db

# What each job touches, in MiB; it declares three times as much.
base=(50 80 110 140 170 200 230 260 290 320 360 400)
RANDOM=42  # the same noise every time the benchmark runs
mkdir -p "$work/mib"
{
  printf '[defaults]\ncpu = 0.25\n'
  for i in "${!base[@]}"; do
    printf '[[job]]\nname = "job-%02d"\nmemory = "%dMiB"\n' "$i" $((base[i] * 3))
    # The command text never changes (one fingerprint); the size comes from a
    # file, read by the job's shell.
    # shellcheck disable=SC2016
    printf 'command = "exec %s --memory-mib $(cat mib/%02d) --memory-step-ms 400 --hold-ms 200"\n' \
      "$usejob" "$i"
  done
} > "$work/jobs.toml"

sql() { sqlite3 -batch -noheader -separator ' ' "$db" "$@"; }

printf '%-4s %10s %14s %14s %7s %8s\n' run makespan "admitted MiB" "declared MiB" ratio lowered
for run in $(seq 1 "$runs"); do
  for i in "${!base[@]}"; do
    # +-5%: base x (950..1050) / 1000
    printf '%d\n' $((base[i] * (950 + RANDOM % 101) / 1000)) > "$work/mib/$(printf %02d "$i")"
  done
  # WP_BENCH_FLAGS is a list of flags, split on purpose.
  # shellcheck disable=SC2086
  if ! "$wp" run -q --memory 2GiB --db "$db" --run-dir "$work/runs/$run" ${WP_BENCH_FLAGS:-} \
    "$work/jobs.toml" > "$work/run.log" 2>&1; then
    echo "learning.sh: run $run failed:" >&2
    cat "$work/run.log" >&2
  fi
  sql "SELECT printf('%-4d %9.2fs %14d %14d %7.2f %5d/%d', $run,
         (julianday(r.ended) - julianday(r.started)) * 86400,
         sum(a.admitted_memory) / 1048576, sum(a.declared_memory) / 1048576,
         1.0 * sum(a.admitted_memory) / sum(a.declared_memory),
         sum(a.admitted_memory < a.declared_memory), count(*))
       FROM attempt a JOIN run r ON r.uuid = a.run_uuid
       WHERE r.id = (SELECT max(id) FROM run) AND a.number = 1"
done

echo
# predicted_memory is what admission would use (the prediction with its
# margin); peak_memory what the attempt then used.
read -r predicted within under < <(sql "SELECT count(*),
    coalesce(sum(predicted_memory >= peak_memory AND predicted_memory <= 1.25 * peak_memory), 0),
    coalesce(sum(predicted_memory < peak_memory), 0)
  FROM attempt WHERE predicted_memory IS NOT NULL AND peak_memory IS NOT NULL AND oom_killed = 0")
read -r ooms lowered_ooms < <(sql "SELECT count(*), coalesce(sum(admitted_memory < declared_memory), 0)
  FROM attempt WHERE oom_killed = 1")
share=$(awk -v w="$within" -v p="$predicted" 'BEGIN { printf "%.1f", p ? 100 * w / p : 0 }')
echo "memory predictions: $predicted; within [actual, 1.25 actual]: $within ($share%)"
echo "under-predictions: $under"
echo "OOM kills: $ooms (of jobs admitted below their declaration: $lowered_ooms)"
echo
verdict() { if [[ $1 == 1 ]]; then echo met; else echo MISSED; fi; }
echo "goal: >= 90% within [actual, 1.25 actual]: $(verdict "$(awk -v s="$share" -v p="$predicted" \
  'BEGIN { print (p > 0 && s >= 90) ? 1 : 0 }')")"
echo "goal: no OOM caused by under-prediction: $(verdict $((lowered_ooms == 0)))"
