#!/usr/bin/env bash
# Launch throughput: N trivial jobs (`true`) two at a time, through wp, make,
# xargs and GNU parallel (when installed), in the same run. Prints ms per job
# and each tool's ratio to wp. Not part of CI: timing belongs in benchmarks.
#
#   tests/bench/throughput.sh [N] [path/to/wp]
set -euo pipefail
n=${1:-2000}
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

# A fresh state database: the first run records 2000 profiles, the second
# reads them back (one query) before it starts, as a repeated run does.
wp_s=$(seconds "$wp" run -q --cpus 2 --db "$work/wp.db" --run-dir "$work/run" "$work/jobs.toml")
# Without per-job cgroups (what a user without root or delegation gets): the
# difference is the cost of making, limiting, reading and removing a cgroup
# for every job.
wp_off_s=$(seconds "$wp" run -q --cpus 2 --cgroup off --db "$work/wp.db" --run-dir "$work/run-off" "$work/jobs.toml")
make_s=$(seconds make -s -j2 -f "$work/Makefile" -C "$work")
xargs_s=$(seconds sh -c "seq $n | xargs -P2 -n1 true")
printf '%-22s %8s %10s %12s\n' tool seconds ms/job "vs wp"
row() { printf '%-22s %8.2f %10.3f %12.2f\n' "$1" "$2" "$(echo "$2 * 1000 / $n" | bc -l)" \
          "$(echo "$2 / $wp_s" | bc -l)"; }
row "wp --cpus 2" "$wp_s"
row "wp --cgroup off" "$wp_off_s"
row "make -j2" "$make_s"
row "xargs -P2" "$xargs_s"
if command -v parallel > /dev/null; then
  row "parallel -j2" "$(seconds sh -c "seq $n | parallel -j2 true")"
else
  echo "parallel: not installed (apt-get install parallel)"
fi
