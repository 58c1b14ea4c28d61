#include "exec/attempt_meter.h"

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace wp::exec {
namespace {

// Sampling starts often, so a short job still gets a figure for its peak
// cores, and backs off to once a second, so long jobs cost next to nothing.
constexpr std::chrono::milliseconds kFirstInterval{50};
constexpr std::chrono::milliseconds kMaxInterval{1000};

double seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

}  // namespace

AttemptMeter::AttemptMeter(platform::JobCgroup cgroup, int version)
    : cgroup_(std::move(cgroup)), version_(version) {}

AttemptMeter::AttemptMeter() = default;

void AttemptMeter::started(pid_t pid, Clock::time_point now) {
  pid_ = pid;
  last_time_ = now;
  last_cpu_ = 0;
  interval_ = kFirstInterval;
  schedule(now);
  // The first look at /proc after kFirstInterval, not at once: a scan of
  // /proc costs about as much as the launch itself, and most small jobs
  // are over by then (rusage still measures those).
  if (!cgroup_) tree_.emplace(pid);
}

void AttemptMeter::schedule(Clock::time_point now) {
  next_ = now + interval_;
  interval_ = std::min(kMaxInterval, interval_ * 2);
}

bool AttemptMeter::sample(Clock::time_point now, const platform::ProcessTable* table) {
  std::optional<double> cpu;
  bool oom = false;
  if (cgroup_) {
    cpu = cgroup_->cpu_seconds();
    // cgroup v2 kills the whole job on OOM (memory.oom.group); v1 kills one
    // process and lets the rest go on, so the caller ends the job.
    oom = version_ == 1 && cgroup_->oom_kills() > 0;
  } else if (tree_) {
    // The tree meter keeps its own peak cores over windows long enough for
    // clock-tick counters; it samples on its own, adaptive schedule.
    if (now >= tree_->next_sample()) {
      last_rss_ = table ? tree_->sample(now, *table).rss : tree_->sample(now).rss;
    }
    next_ = tree_->next_sample();
    return false;
  }
  // cgroup CPU counters are in ns or µs: exact over any window.
  if (cpu && last_time_) {
    double elapsed = std::chrono::duration<double>(now - *last_time_).count();
    if (elapsed > 0) peak_cores_ = std::max(peak_cores_, (*cpu - last_cpu_) / elapsed);
  }
  if (cpu) last_cpu_ = *cpu;
  last_time_ = now;
  schedule(now);
  return oom;
}

std::optional<Bytes> AttemptMeter::memory_now() const {
  if (cgroup_) return cgroup_->memory_current();
  return last_rss_;
}

size_t AttemptMeter::kill_all(bool only_group) {
  size_t found = 0;
  if (pid_ > 0 && ::kill(-pid_, SIGKILL) == 0) ++found;
  if (cgroup_ && only_group && found == 0) {
    cgroup_->assume_empty();
  } else if (cgroup_) {
    found += cgroup_->kill();
  }
  // Without a cgroup, what the samples saw of the tree: an escaped daemon
  // goes with its job, not only at the end of the run (stop_orphans).
  if (tree_) found += tree_->signal_members(SIGKILL);
  return found;
}

void AttemptMeter::suspend(bool stopped) {
  if (cgroup_ && cgroup_->freeze(stopped)) return;
  if (pid_ > 0) ::kill(-pid_, stopped ? SIGSTOP : SIGCONT);
}

report::Usage AttemptMeter::finish(const struct rusage& main_usage, double wall_seconds) {
  report::Usage usage;
  if (cgroup_) {
    platform::CgroupUsage counted = cgroup_->usage();
    usage.method = cgroup_->method();
    usage.peak_memory = counted.peak_memory;
    usage.cpu_seconds = counted.cpu_seconds;
    usage.user_seconds = counted.user_seconds;
    usage.system_seconds = counted.system_seconds;
    usage.read_ops = counted.read_ops;
    usage.write_ops = counted.write_ops;
    usage.read_bytes = counted.read_bytes;
    usage.write_bytes = counted.write_bytes;
    usage.oom_killed = counted.oom_kills > 0;
  } else if (tree_) {
    platform::TreeUsage sampled = tree_->finish(main_usage);
    usage.method = "procfs";
    // Nothing sampled and no usable ru_maxrss (a job gone before its first
    // sample, smaller than wp): unknown, which is not the same as 0 bytes.
    if (sampled.peak_rss > 0) usage.peak_memory = sampled.peak_rss;
    usage.cpu_seconds = sampled.cpu_seconds;
    usage.user_seconds = sampled.user_seconds;
    usage.system_seconds = sampled.system_seconds;
    usage.read_bytes = sampled.read_bytes;
    usage.write_bytes = sampled.write_bytes;
    usage.read_calls = sampled.read_calls;
    usage.write_calls = sampled.write_calls;
    peak_cores_ = std::max(peak_cores_, sampled.peak_cores);
  }
  // The main process's own figures bound the tree's from below when the
  // cgroup cannot count (a controller missing).
  double main_cpu = seconds(main_usage.ru_utime) + seconds(main_usage.ru_stime);
  if (!usage.cpu_seconds) usage.cpu_seconds = main_cpu;
  // The total is the scheduler's exact count; the user/system split is
  // sampled at clock ticks and may not add up to it: keep the split's
  // proportions, scaled to the total, so that user + system = total.
  if (usage.cpu_seconds && usage.user_seconds && usage.system_seconds) {
    double split = *usage.user_seconds + *usage.system_seconds;
    if (split > 0) {
      usage.user_seconds = *usage.cpu_seconds * (*usage.user_seconds / split);
      usage.system_seconds = *usage.cpu_seconds - *usage.user_seconds;
    }
  }
  if (usage.cpu_seconds && wall_seconds > 0) {
    usage.average_cores = *usage.cpu_seconds / wall_seconds;
    // A job shorter than one sampling interval: its average is its peak.
    usage.peak_cores = std::max(peak_cores_, *usage.average_cores);
  }
  // Microseconds and thousandths of a core: what the counters can tell.
  for (std::optional<double>* value :
       {&usage.cpu_seconds, &usage.user_seconds, &usage.system_seconds}) {
    if (*value) **value = std::round(**value * 1e6) / 1e6;
  }
  for (std::optional<double>* value : {&usage.average_cores, &usage.peak_cores}) {
    if (*value) **value = std::round(**value * 1e3) / 1e3;
  }
  return usage;
}

}  // namespace wp::exec
