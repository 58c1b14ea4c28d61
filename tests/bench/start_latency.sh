#!/usr/bin/env bash
# Start latency: how long a slot stays empty between one job's end and the
# next one's start. N trivial jobs (`true`) run two at a time through wp (in
# each cgroup layout this machine offers) and make -j2, each under
# `perf record --no-inherit` on the runner's own thread; for every reaped job
# (wait4 returning a pid) the time until the runner's next fork (clone3,
# clone or vfork) is one figure. Prints the median, 90th percentile and mean
# in microseconds. Not part of CI; needs perf (Debian: linux-perf) and root
# or kernel.perf_event_paranoid <= 1 for the syscall tracepoints.
#
#   tests/bench/start_latency.sh [N] [path/to/wp]
set -euo pipefail
export LC_ALL=C
n=${1:-5000}
wp=${2:-build/release/wp}
if ! [[ $n =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [N] [path/to/wp] (N: a whole number >= 1)" >&2
  exit 2
fi
if ! command -v perf > /dev/null; then
  echo "$0: needs perf (apt-get install linux-perf)" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=tests/bench/trivial_jobs.sh
source "$(dirname "$0")/trivial_jobs.sh"
trivial_jobs "$work" "$n"

events=syscalls:sys_exit_wait4,syscalls:sys_enter_clone3,syscalls:sys_enter_clone
events+=,syscalls:sys_enter_vfork

# perf script lines: "<seconds>: <event>: <fields>"; wait4's exit field is
# its return value in hex (0: nothing ended yet; 0xfff...: an error).
gaps() {
  perf script -i "$work/perf.data" -F time,event,trace 2> /dev/null | awk '
    $2 ~ /sys_exit_wait4/ {
      if ($3 != "0x0" && $3 !~ /^0xffffffff/) { ended = $1 + 0; have = 1 }
      next
    }
    $2 ~ /sys_enter_(clone3|clone|vfork)/ && have {
      printf "%.1f\n", ($1 - ended) * 1e6; have = 0
    }'
}

row() {  # label, command...: one run under perf, then its figures
  local label=$1
  shift
  rm -rf "$work/run" "$work"/wp.db*
  perf record -q --no-inherit -e "$events" -o "$work/perf.data" -- "$@" > /dev/null 2>&1 || {
    echo "failed: $*" >&2
    exit 1
  }
  gaps | sort -g | awk -v label="$label" '
    { a[NR] = $1; sum += $1 }
    END {
      if (NR == 0) { printf "%-24s no fork after a reap was seen\n", label; exit }
      p90 = int(NR * 0.9)
      if (p90 < 1) p90 = 1
      printf "%-24s %8d %10.1f %10.1f %10.1f\n", label, NR, a[int((NR + 1) / 2)], a[p90],
        sum / NR
    }'
}

wp_run=("$wp" run -q --cpus 2 --db "$work/wp.db" --run-dir "$work/run")
printf '%d jobs, two at a time; microseconds from a reap to the next start\n' "$n"
printf '%-24s %8s %10s %10s %10s\n' runner starts median p90 mean
row "wp --cpus 2" "${wp_run[@]}" "$work/jobs.toml"
if [[ $("$wp" info 2> /dev/null || true) =~ (^|$'\n')cgroup\ +hybrid ]]; then
  row "wp --cgroup v1" "${wp_run[@]}" --cgroup v1 "$work/jobs.toml"
  row "wp --cgroup v2 (*)" "${wp_run[@]}" --cgroup v2 --enforce none "$work/jobs.toml"
  echo "(*) the cgroup2 hierarchy of this hybrid machine, without controllers"
fi
row "wp --cgroup off" "${wp_run[@]}" --cgroup off "$work/jobs.toml"
row "make -j2" make -s -j2 -f "$work/Makefile" -C "$work"
