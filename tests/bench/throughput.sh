#!/usr/bin/env bash
# Launch throughput: N trivial jobs (`true`) two at a time, through wp, make,
# xargs and GNU parallel (when installed), in the same run. Prints ms per job,
# each tool's ratio to make -j2, and whether wp meets its goals: within 10% of
# make -j2 (ratio <= 1.10) and at least 4 times faster than GNU parallel -j2.
# Not part of CI: timing belongs in benchmarks.
#
#   tests/bench/throughput.sh [N] [path/to/wp]
#
# WP_BENCH_ROUNDS (default 3): every tool runs once a round, the tools one
# after the other, so that a slow spell of the machine hits all of them. The
# figures are medians over the rounds; a ratio is the median of each round's
# ratio to that round's make -j2, with the lowest and highest beside it.
# WP_BENCH_HISTORY (default 1): how many untimed runs record history before
# the timed ones, each adding one attempt to every job's profile: a batch run
# every day for a month is WP_BENCH_HISTORY=30 (wp reads at most 30 attempts
# of a profile back).
set -euo pipefail
export LC_ALL=C  # printf's %f and bc agree on the decimal point
n=${1:-10000}
wp=${2:-build/release/wp}
rounds=${WP_BENCH_ROUNDS:-3}
history=${WP_BENCH_HISTORY:-1}
if ! [[ $n =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ && $history =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: [WP_BENCH_ROUNDS=R] [WP_BENCH_HISTORY=H] $0 [N] [path/to/wp]" \
    "(N, R and H: whole numbers >= 1)" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Command lines go through eval: the paths in them are quoted for it.
q_wp=$(printf %q "$wp")
q_work=$(printf %q "$work")

# shellcheck source=tests/bench/trivial_jobs.sh
source "$(dirname "$0")/trivial_jobs.sh"
trivial_jobs "$work" "$n"

seconds() {  # runs "$@" and prints its wall time in seconds; a failure ends the benchmark
  local start end
  start=$(date +%s.%N)
  if ! "$@" > "$work/out" 2>&1; then
    echo "failed: $*" >&2
    tail -5 "$work/out" >&2
    exit 1
  fi
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

# The rows: a label and a command line. The state database is never the
# user's: the untimed runs (WP_BENCH_HISTORY) record N profiles, and every
# timed wp run starts from a copy of that database (made before its clock
# starts), so that each reads the same history back, as a repeated run does,
# and none pays for the history the others added.
labels=()
commands=()
row_of() { labels+=("$1"); commands+=("$2"); }
wp_run="$q_wp run -q --cpus 2 --db $q_work/wp.db --run-dir $q_work/run"
row_of "wp --cpus 2" "$wp_run $q_work/jobs.toml"
# On a hybrid machine wp's default is hybrid: a job is created inside its
# cgroup2 directory (clone3) and its child moves itself into the memory and
# blkio hierarchies, under a lock every fork and exit on the machine waits
# on; with --cgroup v1 it moves into four hierarchies (memory, cpuacct,
# blkio, freezer). The cgroup2 hierarchy alone shows the v2 way, with no
# move at all: it has no controllers there, so no memory figures or limits
# (--enforce none).
if [[ $("$wp" info 2> /dev/null || true) =~ (^|$'\n')cgroup\ +hybrid ]]; then
  row_of "wp --cgroup v1" "$wp_run --cgroup v1 $q_work/jobs.toml"
  row_of "wp --cgroup v2 (*)" "$wp_run --cgroup v2 --enforce none $q_work/jobs.toml"
fi
# Without per-job cgroups (what a user without root or delegation gets): the
# difference is the cost of entering, limiting and reading a cgroup a job.
row_of "wp --cgroup off" "$wp_run --cgroup off $q_work/jobs.toml"
row_of "make -j2" "make -s -j2 -f $q_work/Makefile -C $q_work"
row_of "xargs -P2" "sh -c 'seq $n | xargs -P2 -n1 true'"
if command -v parallel > /dev/null; then
  row_of "parallel -j2" "sh -c 'seq $n | parallel -j2 true'"
fi
make_row=0
for i in "${!labels[@]}"; do [[ ${labels[$i]} == "make -j2" ]] && make_row=$i; done

for ((h = 1; h <= history; h++)); do
  rm -rf "$work/run"
  eval "seconds $wp_run $q_work/jobs.toml" > /dev/null
done
# wp checkpoints and removes its write-ahead log when it closes the
# database; one left over goes along.
mv "$work/wp.db" "$work/warm.db"
if [[ -e $work/wp.db-wal ]]; then mv "$work/wp.db-wal" "$work/warm.db-wal"; fi
rm -f "$work/wp.db-shm"

# times[row] = "t1 t2 ..." over the rounds
declare -a times
for ((r = 1; r <= rounds; r++)); do
  for i in "${!labels[@]}"; do
    rm -rf "$work/run" "$work/wp.db-wal" "$work/wp.db-shm"
    cp "$work/warm.db" "$work/wp.db"
    if [[ -e $work/warm.db-wal ]]; then cp "$work/warm.db-wal" "$work/wp.db-wal"; fi
    # On disk before the clock starts: the kernel writes a copy back some
    # 30 s later, into whichever row then runs (a long history's database is
    # over 100 MiB).
    sync "$work"/wp.db*
    t=$(eval "seconds ${commands[$i]}")
    times[i]+="$t "
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratios() {  # each round's time of row $1 over that round's make -j2
  paste -d/ <(tr ' ' '\n' <<< "${times[$1]}" | grep -v '^$') \
    <(tr ' ' '\n' <<< "${times[$make_row]}" | grep -v '^$') | bc -l
}

printf '%d jobs, two at a time; median of %d rounds; %d run%s of history\n' "$n" "$rounds" \
  "$history" "$([[ $history == 1 ]] && echo "" || echo s)"
printf '%-20s %8s %10s %12s %14s\n' tool seconds ms/job "vs make -j2" "(lowest-highest)"
declare -A ratio_of
for i in "${!labels[@]}"; do
  s=$(median <<< "${times[$i]}")
  r=$(ratios "$i" | median)
  lo=$(ratios "$i" | sort -g | head -1)
  hi=$(ratios "$i" | sort -g | tail -1)
  ratio_of[${labels[$i]}]=$r
  printf '%-20s %8.2f %10.3f %12.2f %7.2f-%-6.2f\n' "${labels[$i]}" "$s" \
    "$(echo "$s * 1000 / $n" | bc -l)" "$r" "$lo" "$hi"
done
if [[ -n ${ratio_of[wp --cgroup v2 (*)]:-} ]]; then
  echo "(*) the cgroup2 hierarchy of this hybrid machine, without controllers"
fi
if [[ -z ${ratio_of[parallel -j2]:-} ]]; then
  echo "parallel: not installed (apt-get install parallel)"
fi

# The goals, for each way wp ran.
verdict() {  # "met" when $1 holds (a bc comparison)
  if [[ $(echo "$1" | bc -l) == 1 ]]; then echo met; else echo "NOT met"; fi
}
echo
for label in "${labels[@]}"; do
  [[ $label == wp* ]] || continue
  vs_make=${ratio_of[$label]}
  printf '%-20s %5.2fx make -j2 (goal <= 1.10: %s)' "$label" "$vs_make" \
    "$(verdict "$vs_make <= 1.10")"
  if [[ -n ${ratio_of[parallel -j2]:-} ]]; then
    vs_parallel=$(echo "${ratio_of[parallel -j2]} / $vs_make" | bc -l)
    printf '; parallel -j2 is %5.2fx wp (goal >= 4: %s)' "$vs_parallel" \
      "$(verdict "$vs_parallel >= 4")"
  fi
  printf '\n'
done
