#!/usr/bin/env bash
# The sampler's overhead: every metric read every 250 ms (each behind its own
# cache, as a run loop would ask) for SECONDS (default 30); prints the
# process's CPU time as a percentage of one core. The goal is under 0.1%.
# Not part of CI: timing belongs in benchmarks.
#
#   tests/bench/sampler_overhead.sh [SECONDS] [path/to/wp_sampler_bench]
set -euo pipefail
seconds=${1:-30}
bench=${2:-build/release/tests/wp_sampler_bench}
if [[ ! -x $bench ]]; then
  echo "sampler_overhead.sh: $bench not found; build the wp_sampler_bench target" >&2
  exit 2
fi
"$bench" "$seconds"
