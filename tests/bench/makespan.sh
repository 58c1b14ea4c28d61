#!/usr/bin/env bash
# Makespan of a mixed batch under a real memory budget: wp against the -j
# tools. A generated workload (fixed seed) of wp_usejob jobs whose CPU,
# memory and I/O use are known from their parameters:
#   cpu-NN  CPU-bound: 1 core for 3 to 8 s, 64 to 256 MiB;
#   mem-NN  memory-heavy and mostly idle: 1 to 2.5 GiB held for 6 to 10 s;
#   io-NN   fdatasync'd 4 KiB writes and O_DIRECT reads on a file of their own.
# The machine is held to 2 cores (taskset where it has more) and 6 GiB: each
# tool runs in a memory cgroup of its own limited to 6 GiB without swap, so
# that oversubscribing memory ends in real OOM kills. Each tool runs the
# same jobs in the same order:
#   wp declared    wp run --cpus 2 --memory 6GiB on a fresh database, each job
#                  declaring what it needs;
#   wp learned     the same jobs declaring 3x what they need (capped at the
#                  capacity), run on a database that holds the history of
#                  WP_BENCH_LEARN_RUNS earlier runs of the same commands, so
#                  that wp admits them by prediction;
#   xargs -P2, parallel -j2, make -j2, xargs -P8, parallel -j8 --memfree 1G.
# Prints, per tool, the makespan, its ratio to a lower bound, the OOM kills
# (the cgroup's counter; for wp also its own record of each job's cgroup),
# the jobs that failed and the peak memory of the tool's cgroup; then, for
# the wp rows, where the time went (how many CPU-bound jobs ran at once,
# admitted against real use, memory-guard pauses). The lower bound is
#   max(CPU-seconds / 2 cores, memory x time area / 6 GiB, longest job)
# from what the jobs really use: their parameters, plus the CPU a GiB of page
# faults costs on this machine and the latency of an I/O op, both measured
# first. Goal: wp <= 1.3 x the lower bound with no OOM kill, declared and
# learned. Builds nothing; not part of CI (about a quarter of an hour on a
# quiet 2-core machine, far longer when other work shares it: see the
# "other" column); needs root, or write access to a memory cgroup of its own.
#
#   tests/bench/makespan.sh [path/to/wp] [path/to/wp_usejob]
#
# Environment:
#   WP_BENCH_FLAGS       more `wp run` flags for every wp run (split on blanks),
#                        e.g. "--strategy best-fit"
#   WP_BENCH_STRATEGIES  e.g. "first-fit best-fit": one more wp-declared row
#                        per strategy, run with --strategy NAME (skipped, with
#                        a note, if wp rejects the flag)
#   WP_BENCH_TOOLS       the rows to run (default: all): wp-declared wp-learned
#                        xargs-P2 parallel-j2 make-j2 xargs-P8 parallel-j8
#   WP_BENCH_LEARN_RUNS  runs of history before the learned row (default 6: wp
#                        lowers a steady job's declaration from its 7th run)
#   WP_BENCH_LEARN_SCALE the share of their CPU time and I/O ops the cpu-NN and
#                        io-NN jobs do in those history runs (default 0.25; 1
#                        for full runs); see "learning" below
#   WP_BENCH_KEEP=1      keep the temporary directory (manifests, logs, dbs)
#
# Learning: wp predicts from what each attempt measured (peak memory, average
# cores, wall time, IOPS), never from what it declared. So the history runs
# use the declared manifest with --learn off: they pack like the wp-declared
# row instead of crawling along at 3x declarations (where every mem-NN job
# would run alone), which keeps the benchmark short; the learned row then runs
# the 3x manifest in full. The cpu-NN and io-NN jobs do a share of their work
# in the history runs (WP_BENCH_LEARN_SCALE): their cores and IOPS stay what
# they are, only their learned wall time is shorter. The mem-NN jobs always
# run in full: page faults cost CPU that does not shrink with the hold time,
# so a shortened one would teach wp too many cores.
set -euo pipefail

wp=${1:-build/release/wp}
usejob=${2:-build/release/tests/wp_usejob}
cores=2
budget_mib=6144
learn_runs=${WP_BENCH_LEARN_RUNS:-6}
learn_scale=${WP_BENCH_LEARN_SCALE:-0.25}
all_tools="wp-declared wp-learned xargs-P2 parallel-j2 make-j2 xargs-P8 parallel-j8"
tools=${WP_BENCH_TOOLS:-$all_tools}

die() {
  echo "makespan.sh: $*" >&2
  exit 2
}

# ---- setup checks ----

for binary in "$wp" "$usejob"; do
  [[ -x $binary ]] || die "$binary not found; build it first (cmake --preset release" \
    "-DWP_BUILD_TESTS=ON && cmake --build --preset release)"
done
wp=$(realpath "$wp")
usejob=$(realpath "$usejob")
for tool in make xargs awk; do
  command -v "$tool" > /dev/null || die "$tool is not installed"
done
have_sqlite=1
command -v sqlite3 > /dev/null || have_sqlite=
have_parallel=1
command -v parallel > /dev/null || have_parallel=
[[ $learn_runs =~ ^[0-9]+$ ]] || die "WP_BENCH_LEARN_RUNS must be a whole number"
learn_permille=$(awk -v s="$learn_scale" 'BEGIN { if (s + 0 > 0 && s + 0 <= 1) printf "%d", s * 1000 + 0.5 }')
[[ -n $learn_permille ]] || die "WP_BENCH_LEARN_SCALE must be a number in (0, 1]"
for tool in $tools; do
  [[ " $all_tools " == *" $tool "* ]] || die "WP_BENCH_TOOLS: unknown row '$tool' (known: $all_tools)"
done

cpus=$(nproc)
((cpus >= cores)) || die "needs $cores CPUs, this machine lets us use $cpus"
# Held to the first two CPUs where there are more, so that the -P8 tools
# cannot beat a lower bound computed for two cores.
pin=()
if ((cpus > cores)); then
  command -v taskset > /dev/null || die "$cpus CPUs and no taskset to hold the tools to $cores"
  pin=(taskset -c "0,1")
  "${pin[@]}" true || die "cannot pin to CPUs 0 and 1 (taskset -c 0,1)"
fi
swap_kib=$(awk '/^SwapTotal:/ { print $2 }' /proc/meminfo)
available_mib=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
((available_mib > budget_mib + 1024)) ||
  die "needs $((budget_mib + 1024)) MiB available, the machine has $available_mib MiB"

work=$(mktemp -d)

# ---- the memory budget: a cgroup per tool ----

# Each tool runs in bench/<row>, a cgroup limited to the budget. bench goes
# under the script's own memory cgroup (v1) or beside it (v2, where a cgroup
# that holds processes cannot give its children controllers), never above:
# whatever limits the script stay in force.
cg_version=
bench_cg=
mount_of() {  # the mount point of a cgroup hierarchy: "cgroup memory" or "cgroup2"
  awk -v want="$1" -v option="${2:-}" '{
    for (i = 7; $i != "-"; ++i) {}
    if ($(i + 1) != want) next
    if (option == "") { print $5; exit }
    n = split($(i + 3), opts, ",")
    for (j = 1; j <= n; ++j) if (opts[j] == option) { print $5; exit }
  }' /proc/self/mountinfo
}
own_path() {  # this process's cgroup path in the hierarchy with controller $1 ("" for v2)
  awk -F: -v want="$1" '{
    n = split($2, c, ",")
    if (want == "" && $1 == "0" && $2 == "") { print $3; exit }
    for (i = 1; i <= n; ++i) if (c[i] == want) { print $3; exit }
  }' /proc/self/cgroup
}
setup_cgroups() {
  local mount own parent
  mount=$(mount_of cgroup memory)
  if [[ -n $mount ]]; then
    cg_version=1
    own=$(own_path memory)
    parent=$mount${own%/}
    [[ -d $parent ]] || die "cannot find this process's memory cgroup ($parent)"
  else
    mount=$(mount_of cgroup2)
    [[ -n $mount ]] || die "no memory cgroup: neither a cgroup v1 memory hierarchy nor cgroup v2 is mounted"
    cg_version=2
    own=$(own_path "")
    parent=$mount${own%/}
    # The root may hold processes and hand out controllers; any other
    # cgroup that holds this script may not.
    [[ $own == / ]] || parent=${parent%/*}
    grep -qw memory "$parent/cgroup.controllers" 2> /dev/null ||
      die "cgroup v2 at $mount offers no memory controller to $parent"
    grep -qw memory "$parent/cgroup.subtree_control" ||
      echo +memory > "$parent/cgroup.subtree_control" ||
      die "cannot enable the memory controller in $parent"
  fi
  bench_cg=$parent/wp-makespan-$$
  mkdir "$bench_cg" 2> /dev/null ||
    die "cannot create the budget cgroup $bench_cg (run as root, or in a delegated cgroup)"
  if [[ $cg_version == 1 ]]; then
    # Without use_hierarchy a v1 limit does not cover child cgroups (wp's
    # job cgroups): the budget would hold wp alone.
    [[ $(cat "$bench_cg/memory.use_hierarchy") == 1 ]] ||
      echo 1 > "$bench_cg/memory.use_hierarchy" ||
      die "memory.use_hierarchy is 0 above $bench_cg: a budget would not cover wp's job cgroups"
  else
    # wp moves itself into <row>/wp-.../supervisor and gives its jobs the
    # controllers offered here; memory at least.
    local controller
    for controller in memory cpu io pids; do
      grep -qw "$controller" "$bench_cg/cgroup.controllers" &&
        echo "+$controller" > "$bench_cg/cgroup.subtree_control" 2> /dev/null
    done
    grep -qw memory "$bench_cg/cgroup.subtree_control" ||
      die "cannot enable the memory controller in $bench_cg"
  fi
}

budget_bytes=$((budget_mib * 1024 * 1024))
make_budget() {  # make_budget ROW: a fresh budget cgroup, in $budget_dir
  local dir=$bench_cg/$1
  mkdir "$dir" || die "cannot create $dir"
  budget_dir=$dir
  if [[ $cg_version == 1 ]]; then
    echo "$budget_bytes" > "$dir/memory.limit_in_bytes"
    # memsw (memory + swap) must not be below the memory limit: memory first.
    if [[ -e $dir/memory.memsw.limit_in_bytes ]]; then
      echo "$budget_bytes" > "$dir/memory.memsw.limit_in_bytes"
    fi
    if ! echo 0 > "$dir/memory.swappiness" 2> /dev/null && ((swap_kib > 0)); then
      echo "makespan.sh: cannot set memory.swappiness in $dir; swap may soften the budget" >&2
    fi
  else
    echo "$budget_bytes" > "$dir/memory.max"
    [[ ! -e $dir/memory.swap.max ]] || echo 0 > "$dir/memory.swap.max"
  fi
}
oom_kills_of() {  # v1: kills of the cgroup's own processes; v2: of its whole tree
  local file=memory.events
  [[ $cg_version == 2 ]] || file=memory.oom_control
  awk '$1 == "oom_kill" { print $2; found = 1 } END { if (!found) print "?" }' "$1/$file"
}
peak_of() {  # the cgroup's peak in MiB, its children included
  local file=memory.peak
  [[ $cg_version == 2 ]] || file=memory.max_usage_in_bytes
  if [[ -r $1/$file ]]; then awk '{ printf "%d", $1 / 1048576 }' "$1/$file"; else echo "?"; fi
}
kill_leftovers() {  # SIGKILL what is left in a budget cgroup and below (none, normally)
  local dir pid
  while IFS= read -r dir; do
    while read -r pid; do
      [[ $pid == 0 ]] || kill -KILL "$pid" 2> /dev/null || true
    done < "$dir/cgroup.procs"
  done < <(find "$1" -type d)
}
cleanup() {
  if [[ -n $bench_cg && -d $bench_cg ]]; then
    kill_leftovers "$bench_cg"
    sleep 0.2
    # Deepest first; wp's v2 run/supervisor directories stay behind it.
    find "$bench_cg" -depth -type d -exec rmdir {} + 2> /dev/null ||
      echo "makespan.sh: could not remove $bench_cg" >&2
  fi
  [[ -n ${WP_BENCH_KEEP:-} ]] || rm -rf "$work"
}
trap cleanup EXIT
setup_cgroups

# ---- calibration: what this machine charges for page faults and I/O ----

now_ms() { date +%s%3N; }
calibrate() {
  local best=999999 try ms report=$work/calibrate.report
  # The least of two: the first touch of fresh memory can cost more.
  for try in 1 2; do
    "$usejob" --memory-mib 512 --memory-step-ms 250 --report "$report" ||
      die "wp_usejob failed to allocate 512 MiB (try $try)"
    ms=$(sed -n 's/^cpu_ms=\([0-9]*\).*/\1/p' "$report")
    ((ms < best)) && best=$ms
  done
  fault_ms_per_mib=$(awk -v ms="$best" 'BEGIN { printf "%.4f", ms / 512 }')
  local file=$work/io/calibrate.dat start
  dd if=/dev/zero of="$file" bs=1M count=4 conv=fsync status=none
  start=$(now_ms)
  "$usejob" --file "$file" --write-ops 200 || die "wp_usejob failed to write $file"
  write_ms=$(awk -v t="$(($(now_ms) - start))" 'BEGIN { printf "%.4f", t / 200 }')
  start=$(now_ms)
  "$usejob" --file "$file" --read-ops 400 || die "wp_usejob failed to read $file"
  read_ms=$(awk -v t="$(($(now_ms) - start))" 'BEGIN { printf "%.4f", t / 400 }')
  rm -f "$file"
}
mkdir -p "$work/io" "$work/jobs" "$work/status" "$work/logs" "$work/runs"
calibrate

# ---- the workload ----

# A generator of our own rather than $RANDOM, whose sequence for a seed
# changed between bash releases: the same jobs everywhere.
seed=20250601
rand() {  # rand N: 0..N-1 into $r
  seed=$(((seed * 1103515245 + 12345) % 2147483648))
  r=$(((seed / 65536) % $1))
}
kinds=()
for _ in $(seq 18); do kinds+=(cpu); done
for _ in $(seq 12); do kinds+=(mem); done
for _ in $(seq 4); do kinds+=(io); done
for ((i = ${#kinds[@]} - 1; i > 0; --i)); do  # Fisher-Yates: a mixed order
  rand $((i + 1))
  t=${kinds[i]} kinds[i]=${kinds[r]} kinds[r]=$t
done

# jobs.tsv: name kind mib step_ms cpu_ms hold_ms writes reads, then what the
# job really uses at the least: cpu_s wall_s area (GiB x s), then what it
# declares: cpu memory_mib iops.
declare -A count=([cpu]=0 [mem]=0 [io]=0)
names=()
true_use() {  # kind mib step cpu hold writes reads -> cpu_s wall_s area
  awk -v kind="$1" -v mib="$2" -v step="$3" -v cpu="$4" -v hold="$5" -v w="$6" -v rd="$7" \
    -v fault="$fault_ms_per_mib" -v wms="$write_ms" -v rms="$read_ms" 'BEGIN {
    faults = fault * mib
    steps = int((mib + 15) / 16)
    # usejob sleeps step/steps ms (whole ms) after each 16 MiB: memory grows
    # over that time, so the ramp holds at least half of it on average.
    sleep = step > 0 ? steps * int(step / steps) : 0
    cpu_s = (faults + cpu) / 1000
    wall = (sleep + faults + cpu + hold + w * wms + rd * rms) / 1000
    area = mib / 1024 * (sleep / 2 + cpu + hold) / 1000
    printf "%.3f %.3f %.3f\n", cpu_s, wall, area
  }'
}
declare_for() {  # kind mib cpu_s wall_s writes reads -> cpu memory_mib iops
  awk -v kind="$1" -v mib="$2" -v cpu_s="$3" -v wall="$4" -v w="$5" -v rd="$6" 'BEGIN {
    memory = int(mib * 1.05 + 0.999) + 16
    if (kind == "cpu") { printf "1 %d 0\n", memory; exit }
    if (kind == "io") { printf "0.1 32 %d\n", int((w + rd) / wall + 0.999); exit }
    cores = int(cpu_s / wall * 20 + 0.999) / 20  # up to the next 0.05
    printf "%.2f %d 0\n", cores < 0.05 ? 0.05 : cores, memory
  }'
}
: > "$work/jobs.tsv"
for kind in "${kinds[@]}"; do
  count[$kind]=$((count[$kind] + 1))
  name=$(printf '%s-%02d' "$kind" "${count[$kind]}")
  names+=("$name")
  mib=0 step=0 cpu=0 hold=0 writes=0 reads=0
  case $kind in
    cpu)
      rand 11
      cpu=$((3000 + 500 * r))
      rand 7
      mib=$((64 + 32 * r))
      ;;
    mem)
      rand 13
      mib=$((1024 + 128 * r))
      rand 11
      hold=$((6000 + 400 * r))
      step=1000 cpu=200
      ;;
    io)
      rand 5
      writes=$((800 + 100 * r))
      reads=$((2 * writes))
      dd if=/dev/zero of="$work/io/$name.dat" bs=1M count=16 conv=fsync status=none
      ;;
  esac
  read -r cpu_s wall area < <(true_use "$kind" "$mib" "$step" "$cpu" "$hold" "$writes" "$reads")
  read -r d_cpu d_mem d_iops < <(declare_for "$kind" "$mib" "$cpu_s" "$wall" "$writes" "$reads")
  printf '%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$kind" "$mib" \
    "$step" "$cpu" "$hold" "$writes" "$reads" "$cpu_s" "$wall" "$area" "$d_cpu" "$d_mem" \
    "$d_iops" >> "$work/jobs.tsv"
done

# Each job is a script that runs wp_usejob and appends its exit status to
# $WPB_STATUS/<name> (one line per attempt), whichever tool started it.
# cpu-NN and io-NN do WPB_SCALE per mille of their work (the history runs);
# the command text stays the same, so wp sees one command per job.
write_job() {  # the fields of a jobs.tsv line
  local name=$1 kind=$2 mib=$3 step=$4 cpu=$5 hold=$6 writes=$7 reads=$8 args
  case $kind in
    cpu) args="--memory-mib $mib --cpu-ms \$((${cpu} * scale / 1000))" ;;
    mem) args="--memory-mib $mib --memory-step-ms $step --cpu-ms $cpu --hold-ms $hold" ;;
    io) args="--file '$work/io/$name.dat' --write-ops \$((${writes} * scale / 1000))"
      args+=" --read-ops \$((${reads} * scale / 1000))" ;;
  esac
  cat > "$work/jobs/$name.sh" << EOF
#!/bin/sh
# $name ($kind), from tests/bench/makespan.sh
scale=\${WPB_SCALE:-1000}
'$usejob' $args
status=\$?
[ -z "\${WPB_STATUS:-}" ] || echo "\$status" >> "\$WPB_STATUS/$name"
exit "\$status"
EOF
}
while IFS=$'\t' read -r -a f; do write_job "${f[@]:0:8}"; done < "$work/jobs.tsv"

write_manifest() {  # write_manifest FACTOR FILE: declarations x FACTOR, capped at the capacity
  awk -F'\t' -v factor="$1" -v dir="$work/jobs" -v cap_cpu="$cores" -v cap_mib="$budget_mib" '
    BEGIN { print "version = 1\nnamespace = \"wp-bench-makespan\"\n" }
    function min(a, b) { return a < b ? a : b }
    {
      printf "[[job]]\nname = \"%s\"\ncommand = \"sh %s/%s.sh\"\n", $1, dir, $1
      printf "cpu = %g\nmemory = \"%dMiB\"\n", min($12 * factor, cap_cpu), min($13 * factor, cap_mib)
      if ($14 > 0) printf "iops = %d\n", $14 * factor
      print ""
    }' "$work/jobs.tsv" > "$2"
}
write_manifest 1 "$work/declared.toml"
write_manifest 3 "$work/over.toml"
for name in "${names[@]}"; do echo "$work/jobs/$name.sh"; done > "$work/jobs.list"
{
  echo ".PHONY: all ${names[*]}"
  echo "all: ${names[*]}"
  for name in "${names[@]}"; do printf '%s:\n\tsh %s/jobs/%s.sh\n' "$name" "$work" "$name"; done
} > "$work/Makefile"

# ---- the lower bound ----

read -r n_jobs cpu_total area_total longest longest_job < <(awk -F'\t' '
  { n++; cpu += $9; area += $11; if ($10 > max) { max = $10; job = $1 } }
  END { printf "%d %.1f %.1f %.1f %s\n", n, cpu, area, max, job }' "$work/jobs.tsv")
read -r cpu_term mem_term bound < <(awk -v c="$cpu_total" -v a="$area_total" -v l="$longest" \
  -v cores="$cores" -v gib="$((budget_mib / 1024))" 'BEGIN {
  ct = c / cores; mt = a / gib; b = ct; if (mt > b) b = mt; if (l > b) b = l
  printf "%.1f %.1f %.1f\n", ct, mt, b }')

echo "workload: $n_jobs jobs (${count[cpu]} cpu, ${count[mem]} mem, ${count[io]} io), fixed seed;" \
  "budget $cores cores, $budget_mib MiB (cgroup v$cg_version, $bench_cg)"
echo "calibration: page faults ${fault_ms_per_mib} ms CPU per MiB; I/O ${write_ms} ms per" \
  "synced write, ${read_ms} ms per direct read"
printf 'lower bound: %.1f s = max(CPU %.1f s / %d cores = %.1f s, memory x time %.1f GiB s /' \
  "$bound" "$cpu_total" "$cores" "$cpu_term" "$area_total"
printf ' %d GiB = %.1f s, longest job %s %.1f s)\n' "$((budget_mib / 1024))" "$mem_term" \
  "$longest_job" "$longest"
echo

# ---- running the tools ----

# in_budget CGROUP CMD...: CMD as the only process of CGROUP (wp must be alone
# in its cgroup on v2 to nest its job cgroups under it), held to 2 CPUs, and
# stopped after 20 minutes should it hang.
in_budget() {
  local cgroup=$1
  shift
  # shellcheck disable=SC2016 # $$ and $@ are the inner shell's
  timeout --kill-after=30 1200 "${pin[@]}" sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' \
    sh "$cgroup" "$@"
}

# Other work on the machine shares its two cores with the jobs. The CPU time
# the machine spent (/proc/stat, steal included) less what the tool's tree
# spent (its rusage, once reaped) is what went elsewhere: reported per row
# in cores, since the makespan means little when it is high.
clock_ticks=$(getconf CLK_TCK)
machine_cpu() {  # CPU seconds the machine spent busy, all CPUs
  awk -v hz="$clock_ticks" '$1 == "cpu" { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz }' \
    /proc/stat
}
children_cpu() {  # user + system seconds of this shell's reaped children so far, in $children_s
  # `times` in this shell, not in $(...): a subshell's children are others.
  times > "$work/times"
  children_s=$(awk 'NR == 2 {
    n = split($1 " " $2, t, " ")
    for (i = 1; i <= n; i++) { split(t[i], ms, "m"); s += ms[1] * 60 + ms[2] }
    printf "%.2f", s }' "$work/times")
}
rows=()  # "label|makespan|ooms|failed|peak|other|note"
notes=()
# WP_BENCH_FLAGS is a list of flags, split on purpose.
read -r -a extra_flags <<< "${WP_BENCH_FLAGS:-}"

status_counts() {  # status_counts DIR -> failed sigkilled
  local name failed=0 killed=0 last n
  for name in "${names[@]}"; do
    last=$(tail -n 1 "$1/$name" 2> /dev/null) || last=missing
    [[ $last == 0 ]] || failed=$((failed + 1))
    n=$(grep -cx 137 "$1/$name" 2> /dev/null) || true
    killed=$((killed + ${n:-0}))
  done
  echo "$failed $killed"
}

# run_row LABEL SLUG CMD...: runs CMD in a fresh budget; sets the globals
# elapsed, exit_code, row_ooms, row_failed, row_peak. The jobs do
# $row_scale per mille of their work (see write_job).
row_scale=1000
run_row() {
  local label=$1 slug=$2 cgroup start status_dir=$work/status/$2 killed
  shift 2
  mkdir -p "$status_dir"
  make_budget "$slug"
  cgroup=$budget_dir
  start=$(now_ms)
  local machine_before ours_before
  machine_before=$(machine_cpu)
  children_cpu
  ours_before=$children_s
  exit_code=0
  WPB_SCALE=$row_scale WPB_STATUS=$status_dir in_budget "$cgroup" "$@" \
    > "$work/logs/$slug.log" 2>&1 || exit_code=$?
  elapsed=$(awk -v ms="$(($(now_ms) - start))" 'BEGIN { printf "%.1f", ms / 1000 }')
  children_cpu
  row_other=$(awk -v m0="$machine_before" -v m1="$(machine_cpu)" -v o0="$ours_before" \
    -v o1="$children_s" -v t="$elapsed" 'BEGIN {
    x = (m1 - m0 - (o1 - o0)) / t; printf "%.2f", x < 0 ? 0 : x }')
  kill_leftovers "$cgroup"
  row_ooms=$(oom_kills_of "$cgroup")
  row_peak=$(peak_of "$cgroup")
  read -r row_failed killed < <(status_counts "$status_dir")
  # Where the kernel has no oom_kill count, SIGKILLed jobs are the best guess.
  [[ $row_ooms != "?" ]] || row_ooms="$killed?"
  echo "  $label: ${elapsed}s, exit $exit_code, other load $row_other cores" >&2
}
add_row() {  # add_row LABEL NOTE
  rows+=("$1|$elapsed|$row_ooms|$row_failed|$row_peak|$row_other|$2")
}

sql() { sqlite3 -batch -noheader -separator ' ' "$1" "$2"; }
last_run() { echo "(SELECT uuid FROM run ORDER BY id DESC LIMIT 1)"; }

# wp's own count of OOM-killed attempts in its last run: on v1 a kill inside
# a job's cgroup is counted there, not in the budget's oom_kill.
wp_ooms() {
  [[ -n $have_sqlite && -f $1 ]] || return 0
  local from_db
  from_db=$(sql "$1" "SELECT count(*) FROM attempt WHERE run_uuid = $(last_run) AND oom_killed = 1")
  if [[ $row_ooms =~ ^[0-9]+$ ]] && ((from_db > row_ooms)); then row_ooms=$from_db; fi
}

# Where the time went in wp's last run: seconds with 0, 1 and 2+ cpu-NN jobs
# running, the mean number of mem-NN jobs running, and the capacity wp
# admitted (time-weighted) against what the jobs used.
wp_analysis() {  # wp_analysis DB LABEL LOG
  [[ -n $have_sqlite && -f $1 ]] || return 0
  local line
  line=$(sql "$1" "SELECT job, julianday(started) * 86400, wall_seconds, admitted_cpu,
      admitted_memory, coalesce(cpu_seconds, 0), coalesce(peak_memory, 0)
    FROM attempt WHERE run_uuid = $(last_run)" | awk -v cores="$cores" \
    -v budget="$((budget_mib * 1048576))" '
    {
      n++; start[n] = $2; stop[n] = $2 + $3; kind[n] = substr($1, 1, index($1, "-") - 1)
      if (n == 1 || $2 < t0) t0 = $2
      if ($2 + $3 > t1) t1 = $2 + $3
      adm_cpu += $4 * $3; adm_mem += $5 * $3; used_cpu += $6; used_mem += $7 * $3
    }
    END {
      span = t1 - t0
      # Sweep the starts and ends in time order.
      for (i = 1; i <= n; i++) { t[2 * i - 1] = start[i]; d[2 * i - 1] = 1; k[2 * i - 1] = kind[i]
                                 t[2 * i] = stop[i]; d[2 * i] = -1; k[2 * i] = kind[i] }
      m = 2 * n
      for (i = 2; i <= m; i++) for (j = i; j > 1 && t[j] < t[j - 1]; j--) {
        x = t[j]; t[j] = t[j - 1]; t[j - 1] = x; x = d[j]; d[j] = d[j - 1]; d[j - 1] = x
        x = k[j]; k[j] = k[j - 1]; k[j - 1] = x }
      cpu_now = 0; mem_now = 0
      for (i = 1; i <= m; i++) {
        if (i > 1) { dt = t[i] - t[i - 1]; by[cpu_now >= 2 ? 2 : cpu_now] += dt; mem_area += mem_now * dt }
        if (k[i] == "cpu") cpu_now += d[i]; else if (k[i] == "mem") mem_now += d[i]
      }
      printf "cpu-NN jobs running 2+/1/0: %.0f/%.0f/%.0f s; mem-NN jobs running: %.1f on average;",
        by[2], by[1], by[0], mem_area / span
      printf " admitted cpu %.0f%% (used %.0f%%), admitted memory %.0f%% (peaks x time %.0f%%)",
        100 * adm_cpu / (cores * span), 100 * used_cpu / (cores * span),
        100 * adm_mem / (budget * span), 100 * used_mem / (budget * span)
    }')
  notes+=("$2: $line")
  line=$(grep -m1 '^wp: memory pressure: ' "$3" || true)
  [[ -z $line ]] || notes+=("$2: ${line#wp: }")
}

wp_flags=(run -q -k --cpus "$cores" --memory "${budget_mib}MiB")

run_wp_declared() {  # run_wp_declared LABEL SLUG [FLAG...]
  local label=$1 slug=$2 db=$work/$2.db
  shift 2
  run_row "$label" "$slug" "$wp" "${wp_flags[@]}" --db "$db" --run-dir "$work/runs/$slug" \
    "${extra_flags[@]}" "$@" "$work/declared.toml" < /dev/null
  if ((exit_code == 2)); then
    notes+=("$label: skipped: wp rejected its flags: $(grep -m1 . "$work/logs/$slug.log" || true)")
    return
  fi
  wp_ooms "$db"
  add_row "$label" "fresh db"
  wp_analysis "$db" "$label" "$work/logs/$slug.log"
}

run_wp_learned() {
  local db=$work/wp-learned.db run learned
  row_scale=$learn_permille
  for run in $(seq 1 "$learn_runs"); do
    run_row "wp learned, history run $run" "history-$run" "$wp" "${wp_flags[@]}" --db "$db" \
      --run-dir "$work/runs/history-$run" --learn off "${extra_flags[@]}" "$work/declared.toml" \
      < /dev/null
    # Only successes teach wp: a failed history run is worth knowing.
    if ((exit_code != 0 || row_failed > 0)); then
      notes+=("wp learned: history run $run: exit $exit_code, $row_failed job(s) failed")
    fi
  done
  row_scale=1000
  run_row "wp learned" wp-learned "$wp" "${wp_flags[@]}" --db "$db" \
    --run-dir "$work/runs/wp-learned" "${extra_flags[@]}" "$work/over.toml" < /dev/null
  wp_ooms "$db"
  learned="3x declared, after $learn_runs runs"
  if [[ -n $have_sqlite ]]; then
    learned+=", $(sql "$db" "SELECT sum(admitted_memory < declared_memory) || '/' || count(*)
      || ' by prediction' FROM attempt WHERE run_uuid = $(last_run) AND number = 1")"
    notes+=("wp learned: admitted (first attempts): $(sql "$db" "SELECT
        'memory lowered for ' || sum(admitted_memory < declared_memory) || '/' || count(*)
        || ' jobs, to ' || printf('%.2f', 1.0 * sum(admitted_memory) / sum(peak_memory))
        || 'x their peaks (declared ' || printf('%.2f', 1.0 * sum(declared_memory) / sum(peak_memory))
        || 'x); cpu lowered for ' || sum(admitted_cpu < declared_cpu) || ', cpu-NN jobs at '
        || (SELECT group_concat(c, ', ') FROM (SELECT DISTINCT printf('%.1f', admitted_cpu) AS c
              FROM attempt WHERE run_uuid = $(last_run) AND number = 1 AND job LIKE 'cpu-%'
              ORDER BY admitted_cpu))
        || ' cores, mem-NN at '
        || (SELECT group_concat(c, ', ') FROM (SELECT DISTINCT printf('%.2f', admitted_cpu) AS c
              FROM attempt WHERE run_uuid = $(last_run) AND number = 1 AND job LIKE 'mem-%'
              ORDER BY admitted_cpu))
        FROM attempt WHERE run_uuid = $(last_run) AND number = 1")")
  fi
  add_row "wp learned" "$learned"
  wp_analysis "$db" "wp learned" "$work/logs/wp-learned.log"
}

# Progress on stderr; the table on stdout.
echo "running (about a quarter of an hour on a quiet machine):" >&2
for tool in $tools; do
  case $tool in
    wp-declared)
      run_wp_declared "wp declared" wp-declared
      for strategy in ${WP_BENCH_STRATEGIES:-}; do
        run_wp_declared "wp declared $strategy" "wp-declared-$strategy" --strategy "$strategy"
      done
      ;;
    wp-learned)
      run_wp_learned
      ;;
    xargs-P2 | xargs-P8)
      run_row "xargs -P${tool#xargs-P}" "$tool" xargs -P "${tool#xargs-P}" -n 1 sh \
        < "$work/jobs.list"
      add_row "xargs -P${tool#xargs-P}" ""
      ;;
    parallel-j2 | parallel-j8)
      if [[ -z $have_parallel ]]; then
        notes+=("$tool: skipped: GNU parallel is not installed")
        continue
      fi
      if [[ $tool == parallel-j2 ]]; then
        run_row "parallel -j2" "$tool" parallel -j2 sh :::: "$work/jobs.list" < /dev/null
        add_row "parallel -j2" ""
      else
        run_row "parallel -j8 --memfree 1G" "$tool" parallel -j8 --memfree 1G sh :::: \
          "$work/jobs.list" < /dev/null
        add_row "parallel -j8 --memfree 1G" ""
      fi
      ;;
    make-j2)
      run_row "make -j2" "$tool" make -k -j2 -f "$work/Makefile" all < /dev/null
      add_row "make -j2" "-k"
      ;;
  esac
done
echo >&2

# ---- the table ----

printf '%-27s %9s %8s %9s %7s %9s %6s  %s\n' tool makespan "x bound" "OOM kills" failed \
  "peak MiB" other note
busy=
for row in "${rows[@]}"; do
  IFS='|' read -r label elapsed ooms failed peak other note <<< "$row"
  printf '%-27s %8.1fs %8.2f %9s %4s/%-2d %9s %6s  %s\n' "$label" "$elapsed" \
    "$(awk -v e="$elapsed" -v b="$bound" 'BEGIN { print e / b }')" "$ooms" "$failed" "$n_jobs" \
    "$peak" "$other" "$note"
  if awk -v o="$other" 'BEGIN { exit !(o > 0.2) }'; then busy=1; fi
done
if ((${#notes[@]} > 0)); then
  echo
  for note in "${notes[@]}"; do echo "$note"; done
fi
echo
echo "goal: wp declared and wp learned <= 1.30 x the lower bound ($(awk -v b="$bound" \
  'BEGIN { printf "%.1f", 1.3 * b }') s) with no OOM kill"
echo "other: cores' worth of CPU the machine spent on other work meanwhile."
if [[ -n $busy ]]; then
  echo "WARNING: other work took more than 0.2 cores during some rows: their makespans are" \
    "longer than this workload alone would take; rerun on a quiet machine."
fi
echo "OOM kills: the budget cgroup's oom_kill count (on cgroup v1 only of its own processes; for" \
  "wp the kills wp recorded in its job cgroups too). failed: jobs whose last attempt did not exit 0."
