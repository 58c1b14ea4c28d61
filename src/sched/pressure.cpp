#include "sched/pressure.h"

#include <algorithm>

#include <fmt/format.h>

namespace wp::sched {
namespace {

constexpr Bytes kMiB = Bytes{1} << 20;
constexpr Bytes kGiB = Bytes{1} << 30;

// The tighter of MemAvailable and the cgroup's headroom, with the name the
// verdict gives it; nothing when neither is known.
struct Available {
  Bytes bytes = 0;
  const char* name = "";
};

std::optional<Available> tightest_available(const PressureReading& reading) {
  std::optional<Available> out;
  if (reading.memory_available) out = Available{*reading.memory_available, "available"};
  if (reading.cgroup_headroom && (!out || *reading.cgroup_headroom < out->bytes))
    out = Available{*reading.cgroup_headroom, "cgroup headroom"};
  return out;
}

Bytes critical_of(const PressureConfig& config) {
  return config.critical != 0 ? config.critical : config.reserve / 2;
}

std::string below(const Available& available, const char* limit_name, Bytes limit) {
  return fmt::format("{} {} < {} {}", available.name, format_bytes(available.bytes), limit_name,
                     format_bytes(limit));
}

std::string above(const char* line, double value, double limit) {
  return fmt::format("memory PSI {} avg10 {:.1f}% > {}%", line, value, limit);
}

bool over(const std::optional<double>& value, double limit) {
  return value && *value > limit;
}

}  // namespace

const char* to_string(PressureAction action) {
  switch (action) {
    case PressureAction::Suspend:
      return "suspend";
    case PressureAction::Requeue:
      return "requeue";
  }
  return "?";
}

const char* to_string(PressureLevel level) {
  switch (level) {
    case PressureLevel::Normal:
      return "normal";
    case PressureLevel::High:
      return "high";
    case PressureLevel::Critical:
      return "critical";
  }
  return "?";
}

PressureConfig default_pressure_config(Bytes capacity_memory) {
  PressureConfig config;
  // capacity / 20, not * 5 / 100: an "unlimited" capacity must not overflow.
  config.reserve = std::clamp(capacity_memory / 20, 256 * kMiB, 4 * kGiB);
  config.critical = config.reserve / 2;
  return config;
}

PressureVerdict classify(const PressureReading& reading, const PressureConfig& config) {
  if (!config.enabled) return {};
  std::optional<Available> available = tightest_available(reading);
  Bytes critical = critical_of(config);

  if (available && available->bytes < critical)
    return {PressureLevel::Critical, below(*available, "critical", critical)};
  if (over(reading.psi_full_avg10, config.psi_critical))
    return {PressureLevel::Critical, above("full", *reading.psi_full_avg10, config.psi_critical)};
  if (available && available->bytes < config.reserve)
    return {PressureLevel::High, below(*available, "reserve", config.reserve)};
  if (over(reading.psi_some_avg10, config.psi_high))
    return {PressureLevel::High, above("some", *reading.psi_some_avg10, config.psi_high)};
  return {};
}

bool PressureGuard::settled_since_action(Clock::time_point now) const {
  return !last_action_ || now - *last_action_ >= config_.settle;
}

bool PressureGuard::normal_for_settle(Clock::time_point now) const {
  return normal_since_ && now - *normal_since_ >= config_.settle;
}

PressureDecision PressureGuard::update(const PressureReading& reading, size_t running,
                                       size_t suspended, Clock::time_point now) {
  PressureDecision decision;
  decision.verdict = classify(reading, config_);
  PressureLevel level = decision.verdict.level;

  // Any reading above Normal restarts the wait: resuming needs settle of
  // uninterrupted calm, so a flapping level never resumes a job.
  if (level != PressureLevel::Normal) {
    normal_since_.reset();
  } else if (!normal_since_) {
    normal_since_ = now;
  }

  // Suspended jobs go first: no new job starts while one waits to resume,
  // so they are never stranded behind fresh ones. With every job of ours
  // stopped, the pressure is not ours to relieve by waiting: resume one
  // (paced) at any level.
  bool all_stopped = running == 0 && suspended > 0;
  decision.admit = suspended == 0 && (level == PressureLevel::Normal || running == 0);
  if (!settled_since_action(now)) return decision;
  if (level == PressureLevel::Critical && running > 1) {
    decision.act_on_youngest = true;
    last_action_ = now;
  } else if (all_stopped || (suspended > 0 && normal_for_settle(now))) {
    decision.resume_one = true;
    last_action_ = now;
  }
  return decision;
}

}  // namespace wp::sched
