#!/usr/bin/env bash
# Launch throughput: N trivial jobs (`true`) two at a time, through wp, make,
# xargs and GNU parallel (when installed), in the same run. Prints ms per job,
# each tool's ratio to make -j2, and whether wp meets its goals: within 10% of
# make -j2 (ratio <= 1.10) and at least 4 times faster than GNU parallel -j2.
# Not part of CI: timing belongs in benchmarks.
#
#   tests/bench/throughput.sh [N] [path/to/wp]
set -euo pipefail
n=${1:-10000}
wp=${2:-build/release/wp}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

{
  printf '[defaults]\ncpu = 1\nmemory = "16MiB"\n[[job]]\nname = "t-{i}"\n'
  printf 'matrix = { i = [%s] }\ncommand = "true"\n' "$(seq -s, 1 "$n")"
} > "$work/jobs.toml"
{
  printf 'all:'; for i in $(seq 1 "$n"); do printf ' t%s' "$i"; done; printf '\n'
  for i in $(seq 1 "$n"); do printf 't%s:\n\t@true\n' "$i"; done
  printf '.PHONY: all'; for i in $(seq 1 "$n"); do printf ' t%s' "$i"; done; printf '\n'
} > "$work/Makefile"

seconds() {  # runs "$@" and prints its wall time in seconds
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

# A fresh state database (never the user's): the first run records N
# profiles, the second reads them back (one query) before it starts, as a
# repeated run does.
wp_s=$(seconds "$wp" run -q --cpus 2 --db "$work/wp.db" --run-dir "$work/run" "$work/jobs.toml")
# Without per-job cgroups (what a user without root or delegation gets): the
# difference is the cost of making, limiting, reading and removing a cgroup
# for every job.
wp_off_s=$(seconds "$wp" run -q --cpus 2 --cgroup off --db "$work/wp.db" --run-dir "$work/run-off" "$work/jobs.toml")
make_s=$(seconds make -s -j2 -f "$work/Makefile" -C "$work")
xargs_s=$(seconds sh -c "seq $n | xargs -P2 -n1 true")
parallel_s=
if command -v parallel > /dev/null; then
  parallel_s=$(seconds sh -c "seq $n | parallel -j2 true")
fi

ratio() { echo "$1 / $2" | bc -l; }
printf '%d jobs, two at a time\n' "$n"
printf '%-22s %8s %10s %12s\n' tool seconds ms/job "vs make -j2"
row() { printf '%-22s %8.2f %10.3f %12.2f\n' "$1" "$2" "$(echo "$2 * 1000 / $n" | bc -l)" \
          "$(ratio "$2" "$make_s")"; }
row "wp --cpus 2" "$wp_s"
row "wp --cgroup off" "$wp_off_s"
row "make -j2" "$make_s"
row "xargs -P2" "$xargs_s"
if [[ -n $parallel_s ]]; then
  row "parallel -j2" "$parallel_s"
else
  echo "parallel: not installed (apt-get install parallel)"
fi

# The goals, for wp as it is (per-job cgroups) and without cgroups.
verdict() {  # "met" when $1 holds (a bc comparison)
  if [[ $(echo "$1" | bc -l) == 1 ]]; then echo met; else echo "NOT met"; fi
}
echo
for variant in "wp --cpus 2:$wp_s" "wp --cgroup off:$wp_off_s"; do
  name=${variant%%:*}
  s=${variant#*:}
  vs_make=$(ratio "$s" "$make_s")
  printf '%-16s %5.2fx make -j2 (goal <= 1.10: %s)' "$name" "$vs_make" \
    "$(verdict "$vs_make <= 1.10")"
  if [[ -n $parallel_s ]]; then
    vs_parallel=$(ratio "$parallel_s" "$s")
    printf '; parallel -j2 is %5.2fx wp (goal >= 4: %s)' "$vs_parallel" \
      "$(verdict "$vs_parallel >= 4")"
  fi
  printf '\n'
done
