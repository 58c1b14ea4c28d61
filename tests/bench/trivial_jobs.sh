# shellcheck shell=bash
# Sourced by the launch benchmarks (throughput.sh, start_latency.sh):
# trivial_jobs DIR N writes DIR/jobs.toml, N jobs running `true` (one core
# and 16 MiB each, as a matrix), and DIR/Makefile, the same N as make targets.
trivial_jobs() {
  local dir=$1 n=$2 i
  {
    printf '[defaults]\ncpu = 1\nmemory = "16MiB"\n[[job]]\nname = "t-{i}"\n'
    printf 'matrix = { i = [%s] }\ncommand = "true"\n' "$(seq -s, 1 "$n")"
  } > "$dir/jobs.toml"
  {
    printf 'all:'; for i in $(seq 1 "$n"); do printf ' t%s' "$i"; done; printf '\n'
    for i in $(seq 1 "$n"); do printf 't%s:\n\t@true\n' "$i"; done
    printf '.PHONY: all'; for i in $(seq 1 "$n"); do printf ' t%s' "$i"; done; printf '\n'
  } > "$dir/Makefile"
}
