// The memory-pressure guard: admission also watches the machine, not only
// the declared figures. Policy only (pure, deterministic, tested on fixed
// readings); the runner samples the machine and carries out the actions.
//
// Levels, from the tightest of the readings that are known:
// - Normal: admit as usual.
// - High: available memory (MemAvailable, or the headroom of wp's own
//   memory cgroup, whichever is less) below `reserve`, or memory PSI
//   "some avg10" above `psi_high`: stop admitting.
// - Critical: available below `critical`, or PSI "full avg10" above
//   `psi_critical`: act before the kernel's OOM killer does, on the youngest
//   running job (the one that has run least and so loses least): suspend it
//   (SIGSTOP, or the cgroup freezer) or kill it and put it back in the queue.
//   One action per `settle` period, so the effect of the last one is seen
//   before the next.
// Resuming: suspended jobs are resumed one at a time, oldest suspension
// first, once the level has been Normal for `settle`.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "resources/quantity.h"

namespace wp::sched {

enum class PressureAction { Suspend, Requeue };
const char* to_string(PressureAction action);  // "suspend", "requeue"

struct PressureConfig {
  bool enabled = true;
  Bytes reserve = 0;           // 0: chosen by default_pressure_config
  Bytes critical = 0;          // 0: half the reserve
  double psi_high = 20.0;      // memory "some avg10" percentage
  double psi_critical = 50.0;  // memory "full avg10" percentage
  PressureAction action = PressureAction::Suspend;
  std::chrono::milliseconds settle{2000};
};

// The reserve when none is given: 5% of the memory wp packs against,
// at least 256 MiB and at most 4 GiB; critical is half of it.
PressureConfig default_pressure_config(Bytes capacity_memory);

// One look at the machine; nullopt is unknown (an unknown figure never
// raises the level).
struct PressureReading {
  std::optional<Bytes> memory_available;  // MemAvailable
  std::optional<Bytes> cgroup_headroom;   // wp's memory cgroup: limit minus working set
  std::optional<double> psi_some_avg10;   // the cgroup's if known, else the machine's
  std::optional<double> psi_full_avg10;
};

enum class PressureLevel { Normal, High, Critical };
const char* to_string(PressureLevel level);  // "normal", "high", "critical"

struct PressureVerdict {
  PressureLevel level = PressureLevel::Normal;
  // The figure that decided: "available 410 MiB < reserve 512 MiB",
  // "cgroup headroom 200 MiB < critical 256 MiB", "memory PSI full avg10 63.0% > 50%";
  // empty when Normal.
  std::string why;
};
PressureVerdict classify(const PressureReading& reading, const PressureConfig& config);

// What the runner should do after a reading.
struct PressureDecision {
  bool admit = true;             // may new jobs start now
  bool act_on_youngest = false;  // suspend or requeue the youngest running job
  bool resume_one = false;       // resume the job suspended longest ago
  PressureVerdict verdict;
};

class PressureGuard {
 public:
  using Clock = std::chrono::steady_clock;
  explicit PressureGuard(PressureConfig config) : config_(config) {}

  // `running` counts jobs running and not suspended, `suspended` those
  // stopped by the guard. Acting needs more than one running job: the last
  // one is never suspended or killed for pressure, so a run always makes
  // progress. No job is admitted while one is suspended (they resume
  // first); with nothing running and nothing suspended, admission is
  // allowed whatever the level; with every job suspended, one is resumed
  // (paced by `settle`) at any level.
  PressureDecision update(const PressureReading& reading, size_t running, size_t suspended,
                          Clock::time_point now);

  const PressureConfig& config() const { return config_; }

 private:
  bool settled_since_action(Clock::time_point now) const;
  bool normal_for_settle(Clock::time_point now) const;

  PressureConfig config_;
  std::optional<Clock::time_point> last_action_;
  std::optional<Clock::time_point> normal_since_;
};

}  // namespace wp::sched
