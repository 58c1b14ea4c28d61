// The runner's side of the memory-pressure guard: reads the machine through
// the sampler (cached, so checking often is cheap), asks the guard what to
// do, logs each change of level once and counts what was done.
#pragma once

#include <chrono>
#include <filesystem>

#include "platform/sampler.h"
#include "report/run_report.h"
#include "sched/pressure.h"

namespace wp::exec {

enum class GuardMode { Off, Hold, Suspend, Requeue };
const char* to_string(GuardMode mode);  // "off", "hold", "suspend", "requeue"

class PressureWatch {
 public:
  using Clock = std::chrono::steady_clock;
  // Every 250 ms: MemAvailable is cached that long, and a job touching
  // memory at full speed takes seconds to fill a reserve of hundreds of MiB.
  static constexpr std::chrono::milliseconds kInterval{250};

  PressureWatch(GuardMode mode, const sched::PressureConfig& config);

  bool enabled() const { return mode_ != GuardMode::Off; }
  // Memory PSI from this cgroup v2 directory (the run's, holding every job)
  // rather than from wp's own cgroup.
  void use_pressure_of(const std::filesystem::path& cgroup_dir) {
    sampler_.use_pressure_of(cgroup_dir);
  }
  GuardMode mode() const { return mode_; }
  Clock::time_point next_check() const { return next_; }
  // `running` excludes the suspended ones.
  sched::PressureDecision check(size_t running, size_t suspended, Clock::time_point now,
                                report::PressureCounts& counts);

 private:
  GuardMode mode_;
  platform::Sampler sampler_;
  sched::PressureGuard guard_;
  Clock::time_point next_{};
  bool holding_ = false;
  sched::PressureLevel last_level_ = sched::PressureLevel::Normal;
};

}  // namespace wp::exec
