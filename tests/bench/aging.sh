#!/usr/bin/env bash
# What aging costs and bounds, through `wp plan` (the scheduler's own
# simulation, timeouts as run times; nothing runs), at --aging 0, 10s, 1m
# and 5m (the default):
#  1. dag: 100 independent one-minute jobs and a 60-job chain of one-minute
#     jobs, all of one priority, on 2 cores. Aging must not reorder jobs of
#     one priority: the chain goes first, and the plan is its lower bound.
#  2. stream: a 2-core priority-0 job among 100 chains of 20 priority-5
#     one-core jobs (1 s and 1.3 s in turn). When the low job starts; the
#     bound of wp-run(1) is 5 x aging, plus a job of the other band and the
#     running jobs' end (a few seconds). With --aging 0 it waits for all.
#  3. long: a 2-core priority-1 job behind a one-hour priority-3 job, with
#     forty 5-minute priority-3 jobs, on 2 cores. When the 2-core job starts
#     (the hour's end at best) and the makespan: jobs whose timeouts end
#     them within the hour keep the other core busy meanwhile.
# Not part of CI: figures belong in benchmarks.
#
#   tests/bench/aging.sh [path/to/wp]
set -euo pipefail
wp=${1:-build/release/wp}
if [[ ! -x $wp ]]; then
  echo "aging.sh: $wp not found; build it first (cmake --preset release &&" \
    "cmake --build --preset release)" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export WP_DB=$work/wp.db WP_LEDGER=off

job() {  # name timeout [priority [cpu [after]]]
  printf '[[job]]\nname = "%s"\ncommand = "true"\ntimeout = "%s"\npriority = %s\ncpu = %s\n' \
    "$1" "$2" "${3:-0}" "${4:-1}"
  if [[ -n ${5:-} ]]; then printf 'after = ["%s"]\n' "$5"; fi
}

{
  echo 'version = 1'
  for i in $(seq 0 99); do job "pool-$i" 60s; done
  for i in $(seq 0 59); do job "chain-$i" 60s 0 1 "$([[ $i -gt 0 ]] && echo "chain-$((i - 1))")"; done
} >"$work/dag.toml"
{
  echo 'version = 1'
  job low 5s 0 2
  for c in $(seq 0 99); do
    for i in $(seq 0 19); do
      job "s$c-$i" "$([[ $((i % 2)) -eq 0 ]] && echo 1.3s || echo 1s)" 5 1 \
        "$([[ $i -gt 0 ]] && echo "s$c-$((i - 1))")"
    done
  done
} >"$work/stream.toml"
{
  echo 'version = 1'
  job hour 1h 3
  job wide 5m 1 2
  for i in $(seq 0 39); do job "short-$i" 5m 3; done
} >"$work/long.toml"

plan() {  # manifest aging -> the JSON plan
  "$wp" plan --cpus 2 --memory 8GiB --cpu-overcommit 1 --aging "$2" --json "$1" 2>/dev/null
}
field() {  # key: its first number in the JSON on stdin
  grep -m1 "\"$1\":" | tr -dc '0-9.\n'
}
start_of() {  # job name: its start in the JSON on stdin
  awk -v want="\"name\": \"$1\"," '$0 ~ want {found = 1} found && /"start":/ {
    gsub(/[^0-9.]/, ""); print; exit }'
}

printf '%-8s %-10s %12s %12s %12s\n' scenario aging makespan_s "x bound" start_s
for aging in 0 10s 1m 5m; do
  json=$(plan "$work/dag.toml" "$aging")
  printf '%-8s %-10s %12s %12s %12s\n' dag "$aging" "$(field makespan <<<"$json")" \
    "$(field ratio <<<"$json")" "-"
done
for aging in 0 10s 1m 5m; do
  json=$(plan "$work/stream.toml" "$aging")
  printf '%-8s %-10s %12s %12s %12s\n' stream "$aging" "$(field makespan <<<"$json")" \
    "$(field ratio <<<"$json")" "$(start_of low <<<"$json")"
done
for aging in 0 10s 1m 5m; do
  json=$(plan "$work/long.toml" "$aging")
  printf '%-8s %-10s %12s %12s %12s\n' long "$aging" "$(field makespan <<<"$json")" \
    "$(field ratio <<<"$json")" "$(start_of wide <<<"$json")"
done
echo "(start_s: dag -, stream the priority-0 job's start, long the 2-core job's start)"
