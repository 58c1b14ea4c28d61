#!/usr/bin/env bash
# The cost of scheduling with 100,000 queued jobs. Six figures:
#  1. wp_sched_bench: the wall time of each scheduling decision (median, p99,
#     largest) when 100,000 jobs of mixed demands, durations, priorities and
#     chains are simulated on 2 cores and 6 GiB, per strategy, and the
#     makespan against its lower bound. Goal: median <= 5 us.
#  2. `wp plan` of a 100,000-job manifest: its decision times and peak RSS
#     (the manifest, the history lookup and the simulation together).
#  3. `wp run` of the same manifest (every job `true`, --cgroup off), twice
#     on one database: peak RSS of wp with 100,000 jobs queued and run, on a
#     fresh database and with every job's history. Goal: <= 150 MiB.
#  4. `wp plan` again, with that history: its peak RSS.
#  5. The same jobs written out as N [[job]] tables, as a generator writes
#     them rather than as a matrix: peak RSS of `wp validate`, `wp plan` and
#     `wp run` (with the history of 3), whose TOML is parsed a piece at a time.
#  6. N [[job]] tables as a real batch writes them (about 300 bytes each: a
#     long command line, tags, env, a timeout): peak RSS of `wp validate`,
#     `wp plan` and `wp run` (the command is `true` with arguments).
# Not part of CI: timing belongs in benchmarks.
#
#   tests/bench/decisions.sh [N] [path/to/wp] [path/to/wp_sched_bench]
set -euo pipefail
n=${1:-100000}
wp=${2:-build/release/wp}
bench=${3:-build/release/tests/wp_sched_bench}
for binary in "$wp" "$bench"; do
  if [[ ! -x $binary ]]; then
    echo "decisions.sh: $binary not found; build it first (cmake --preset release" \
      "-DWP_BUILD_TESTS=ON && cmake --build --preset release)" >&2
    exit 2
  fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== scheduler alone: $n simulated jobs"
"$bench" "$n"

# A matrix of N members, a tenth of them memory-heavy, a few chained.
{
  printf '[defaults]\ncpu = 0.5\nmemory = "64MiB"\ntimeout = "1m"\n'
  printf '[[job]]\nname = "t-{i}"\nmatrix = { i = [%s] }\ncommand = "true"\n' \
    "$(seq -s, 1 $((n - n / 10)))"
  printf '[[job]]\nname = "m-{i}"\nmatrix = { i = [%s] }\ncommand = "true"\n' \
    "$(seq -s, 1 $((n / 10)))"
  printf 'memory = "1GiB"\ncpu = 0.1\nafter = ["t-1"]\n'
} > "$work/jobs.toml"

peak() {  # runs "$@" with stdout to $work/out; prints its peak RSS in MiB
  /usr/bin/time -f '%M' -o "$work/rss" "$@" > "$work/out" 2> "$work/err" ||
    { cat "$work/err" >&2; exit 1; }
  echo "scale=1; $(cat "$work/rss") / 1024" | bc
}

plan_summary() {  # prints the decision times, the makespan and the peak RSS of a --json plan
  python3 - "$work/out" "$1" << 'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
d = doc["decisions"]
print(f"decisions {d['count']}: median {d['median_us']:.2f} us, p99 {d['p99_us']:.2f} us, "
      f"max {d['max_us']:.0f} us; makespan {doc['makespan']:.0f} s "
      f"({doc['ratio']:.3f} x lower bound); peak RSS {sys.argv[2]} MiB")
PY
}

echo
echo "== wp plan: $n jobs, 2 cores, 6 GiB, no history"
plan_rss=$(peak "$wp" plan --json --cpus 2 --memory 6GiB --db "$work/wp.db" "$work/jobs.toml")
plan_summary "$plan_rss"

echo
echo "== wp run: $n jobs (true), --cgroup off, twice on one database"
for pass in 1 2; do
  start=$(date +%s.%N)
  run_rss=$(peak "$wp" run -q --cgroup off --cpus 2 --memory 6GiB --db "$work/wp.db" \
    --run-dir "$work/run$pass" "$work/jobs.toml")
  end=$(date +%s.%N)
  [[ $pass == 1 ]] && history="fresh database" || history="every job with history"
  printf 'run %d (%s): peak RSS %s MiB; %.1f s (%.3f ms/job)\n' "$pass" "$history" "$run_rss" \
    "$(echo "$end - $start" | bc)" "$(echo "($end - $start) * 1000 / $n" | bc -l)"
done

echo
echo "== wp plan again, with that history"
plan_rss=$(peak "$wp" plan --json --cpus 2 --memory 6GiB --db "$work/wp.db" "$work/jobs.toml")
plan_summary "$plan_rss"

# 5: one [[job]] table a job, with the same demands as the matrix above.
{
  printf '[defaults]\ncpu = 0.5\nmemory = "64MiB"\ntimeout = "1m"\n'
  for ((i = 1; i <= n - n / 10; i++)); do
    printf '[[job]]\nname = "t-%d"\ncommand = "true"\n' "$i"
  done
  for ((i = 1; i <= n / 10; i++)); do
    printf '[[job]]\nname = "m-%d"\ncommand = "true"\nmemory = "1GiB"\ncpu = 0.1\nafter = ["t-1"]\n' \
      "$i"
  done
} > "$work/tables.toml"

tables_rss() {  # prints the peak RSS of wp validate, plan and run of manifest $1
  local validate_rss plan_rss run_rss
  validate_rss=$(peak "$wp" validate --cpus 2 --memory 6GiB --db "$work/wp.db" "$1")
  plan_rss=$(peak "$wp" plan --json --cpus 2 --memory 6GiB --db "$work/wp.db" "$1")
  run_rss=$(peak "$wp" run -q --cgroup off --cpus 2 --memory 6GiB --db "$work/wp.db" \
    --run-dir "$work/run-$(basename "$1" .toml)" "$1")
  printf 'peak RSS: wp validate %s MiB, wp plan %s MiB, wp run %s MiB\n' "$validate_rss" \
    "$plan_rss" "$run_rss"
}

echo
echo "== the same $n jobs as $n [[job]] tables ($(du -h "$work/tables.toml" | cut -f1) of TOML)"
tables_rss "$work/tables.toml"

# 6: tables with what a real job carries.
{
  printf '[defaults]\ntimeout = "2h"\n'
  for ((i = 1; i <= n; i++)); do
    printf '[[job]]\nname = "sample-%06d-align"\n' "$i"
    printf 'command = "true bwa mem -t 1 ref/genome.fa reads/s%06d_R1.fq.gz reads/s%06d_R2.fq.gz -o out/%06d.bam"\n' \
      "$i" "$i" "$i"
    printf 'cpu = %d\nmemory = "%dMiB"\ntags = ["align", "batch-%d", "lane-%d"]\n' \
      $((1 + i % 2)) $((256 << (i % 3))) $((i % 50)) $((i % 8))
    printf 'env = { SAMPLE = "%06d", REF = "ref/genome.fa" }\n' "$i"
  done
} > "$work/rich.toml"
echo
echo "== $n [[job]] tables with commands, tags and env ($(du -h "$work/rich.toml" | cut -f1) of TOML)"
tables_rss "$work/rich.toml"
