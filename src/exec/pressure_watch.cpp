#include "exec/pressure_watch.h"

#include "util/log.h"

namespace wp::exec {

const char* to_string(GuardMode mode) {
  switch (mode) {
    case GuardMode::Off:
      return "off";
    case GuardMode::Hold:
      return "hold";
    case GuardMode::Suspend:
      return "suspend";
    case GuardMode::Requeue:
      return "requeue";
  }
  return "unknown";
}

PressureWatch::PressureWatch(GuardMode mode, const sched::PressureConfig& config)
    : mode_(mode), guard_(config) {}

sched::PressureDecision PressureWatch::check(size_t running, size_t suspended,
                                             Clock::time_point now,
                                             report::PressureCounts& counts) {
  next_ = now + kInterval;
  if (!enabled()) return {};
  platform::Utilisation now_used;
  now_used.memory_available = sampler_.memory_available();
  now_used.cgroup_memory_headroom = sampler_.cgroup_memory_headroom();
  // The cgroup's PSI says more about our jobs than the machine's.
  std::optional<platform::Pressure> psi = sampler_.cgroup_memory_pressure();
  if (!psi) psi = sampler_.memory_pressure();
  sched::PressureReading reading;
  reading.memory_available = now_used.memory_available;
  reading.cgroup_headroom = now_used.cgroup_memory_headroom;
  if (psi) {
    reading.psi_some_avg10 = psi->some_avg10;
    reading.psi_full_avg10 = psi->full_avg10;
  }
  sched::PressureDecision decision = guard_.update(reading, running, suspended, now);
  auto log = log::get("run");
  if (decision.verdict.level != last_level_) {
    if (decision.verdict.level == sched::PressureLevel::Normal) {
      log->info("memory pressure is normal again");
    } else {
      log->warn("memory pressure {}: {}", sched::to_string(decision.verdict.level),
                decision.verdict.why);
    }
    last_level_ = decision.verdict.level;
  }
  // One hold per episode of pressure, however often a job ending lets the
  // next one in.
  bool pressured = decision.verdict.level != sched::PressureLevel::Normal;
  if (pressured && !holding_) {
    ++counts.holds;
    log->warn("until memory pressure eases, a job starts only when none is running");
  }
  holding_ = pressured;
  if (mode_ == GuardMode::Hold) {
    decision.act_on_youngest = false;
    decision.resume_one = false;
  }
  return decision;
}

}  // namespace wp::exec
