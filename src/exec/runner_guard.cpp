// The runner's measurement ticks and the memory-pressure guard's actions on
// running jobs (see runner_internal.h).
#include <signal.h>

#include <algorithm>

#include "exec/runner_internal.h"

namespace wp::exec::detail {

// Peak cores for every record, and on cgroup v1 the end of a job whose
// process the OOM killer took (v2 kills the whole job itself). Jobs measured
// from /proc share one scan of it, at most every kProcScanSpacing.
void Runner::sample_jobs(SteadyTime now) {
  std::optional<platform::ProcessTable> table;
  for (auto& [pid, active] : active_) {
    if (next_sample(*active) > now) continue;
    if (!active->meter->has_cgroup() && !table) table = platform::ProcessTable::scan();
    if (active->meter->sample(now, table ? &*table : nullptr) && !active->oom_stopped) {
      active->oom_stopped = true;
      log_->warn("{}: the kernel's OOM killer struck inside the job; stopping it",
                 manifest_.jobs[active->job].name);
      active->meter->kill_all();
    }
  }
  if (table) next_proc_scan_ = now + kProcScanSpacing;
}

SteadyTime Runner::next_sample(const Active& active) const {
  SteadyTime due = active.meter->next_sample();
  return active.meter->has_cgroup() ? due : std::max(due, next_proc_scan_);
}

void Runner::check_pressure(SteadyTime now) {
  size_t suspended = 0;
  for (const auto& [pid, active] : active_)
    suspended += active->suspended_at ? 1 : 0;
  sched::PressureDecision decision =
      pressure_.check(active_.size() - suspended, suspended, now, report_.pressure);
  admission_open_ = decision.admit;
  pressure_level_ = decision.verdict.level;
  if (decision.act_on_youngest) act_on_youngest();
  if (decision.resume_one) {
    resume_oldest_suspended(decision.verdict.level == sched::PressureLevel::Normal);
  }
}

void Runner::suspend(Active& active, bool stopped) {
  active.meter->suspend(stopped);
  if (stopped) {
    active.suspended_at = SteadyClock::now();
    ++active.attempt.suspensions;
    return;
  }
  // The time it stood still does not count against its timeout.
  if (active.deadline && active.suspended_at) {
    *active.deadline += SteadyClock::now() - *active.suspended_at;
  }
  active.suspended_at.reset();
}

// The youngest job has done the least work, so stopping it loses least.
void Runner::act_on_youngest() {
  Active* youngest = nullptr;
  for (auto& [pid, active] : active_) {
    if (active->suspended_at || active->attempt.requeued || active->kill_at) continue;
    if (!youngest || active->started > youngest->started) youngest = active.get();
  }
  if (!youngest) return;
  const std::string& name = manifest_.jobs[youngest->job].name;
  std::optional<Bytes> holds = youngest->meter->memory_now();
  std::string size = holds ? " holding " + format_bytes(*holds) : "";
  if (pressure_.mode() == GuardMode::Requeue) {
    log_->warn("memory pressure: killing {}{} to run it again later", name, size);
    youngest->attempt.requeued = true;
    ++report_.pressure.requeues;
    youngest->meter->kill_all();
    return;
  }
  log_->warn("memory pressure: suspending {}{}", name, size);
  ++report_.pressure.suspensions;
  suspend(*youngest, true);
}

void Runner::resume_oldest_suspended(bool eased) {
  Active* oldest = nullptr;
  for (auto& [pid, active] : active_) {
    if (!active->suspended_at) continue;
    if (!oldest || *active->suspended_at < *oldest->suspended_at) oldest = active.get();
  }
  if (!oldest) return;
  // With every job suspended, one must go on even under pressure: the
  // pressure is not ours.
  const std::string& name = manifest_.jobs[oldest->job].name;
  if (eased) {
    log_->warn("memory pressure eased: resuming {}", name);
  } else {
    log_->warn("every job is suspended, so the pressure is not theirs: resuming {}", name);
  }
  ++report_.pressure.resumes;
  suspend(*oldest, false);
}

}  // namespace wp::exec::detail
