// The memory-pressure guard on fixed readings and a hand-moved clock.
#include <catch2/catch.hpp>

#include "sched/pressure.h"

using namespace wp;
using namespace wp::sched;
using namespace std::chrono_literals;

namespace {

constexpr Bytes kMiB = Bytes{1} << 20;
constexpr Bytes kGiB = Bytes{1} << 30;

// reserve 512 MiB, critical 256 MiB, PSI 20% / 50%, settle 2 s.
PressureConfig config() {
  PressureConfig c;
  c.reserve = 512 * kMiB;
  c.critical = 256 * kMiB;
  return c;
}

PressureReading available(Bytes bytes) {
  PressureReading r;
  r.memory_available = bytes;
  return r;
}

const PressureReading kCalm = available(8 * kGiB);
const PressureReading kHigh = available(400 * kMiB);
const PressureReading kCritical = available(100 * kMiB);

PressureLevel level_of(const PressureReading& reading) {
  return classify(reading, config()).level;
}

using Time = PressureGuard::Clock::time_point;

}  // namespace

TEST_CASE("the default reserve is 5% of capacity within 256 MiB and 4 GiB", "[pressure]") {
  CHECK(default_pressure_config(16 * kGiB).reserve == 16 * kGiB / 20);
  CHECK(default_pressure_config(16 * kGiB).critical == 16 * kGiB / 40);
  CHECK(default_pressure_config(1 * kGiB).reserve == 256 * kMiB);
  CHECK(default_pressure_config(1 * kGiB).critical == 128 * kMiB);
  CHECK(default_pressure_config(0).reserve == 256 * kMiB);
  CHECK(default_pressure_config(512 * kGiB).reserve == 4 * kGiB);
  CHECK(default_pressure_config(Resources::kUnlimited).reserve == 4 * kGiB);
  PressureConfig d = default_pressure_config(16 * kGiB);
  CHECK(d.enabled);
  CHECK(d.psi_high == 20.0);
  CHECK(d.psi_critical == 50.0);
  CHECK(d.action == PressureAction::Suspend);
  CHECK(d.settle == 2000ms);
}

TEST_CASE("levels change at the reserve and the critical figure", "[pressure]") {
  CHECK(level_of(available(512 * kMiB)) == PressureLevel::Normal);  // equal is not below
  CHECK(level_of(available(512 * kMiB - 1)) == PressureLevel::High);
  CHECK(level_of(available(256 * kMiB)) == PressureLevel::High);
  CHECK(level_of(available(256 * kMiB - 1)) == PressureLevel::Critical);
  CHECK(level_of(available(0)) == PressureLevel::Critical);

  PressureVerdict high = classify(available(410 * kMiB), config());
  CHECK(high.why == "available 410 MiB < reserve 512 MiB");
  PressureVerdict critical = classify(available(200 * kMiB), config());
  CHECK(critical.why == "available 200 MiB < critical 256 MiB");
  CHECK(classify(kCalm, config()).why.empty());
}

TEST_CASE("critical defaults to half the reserve", "[pressure]") {
  PressureConfig c = config();
  c.critical = 0;
  CHECK(classify(available(256 * kMiB), c).level == PressureLevel::High);
  CHECK(classify(available(256 * kMiB - 1), c).level == PressureLevel::Critical);
}

TEST_CASE("unknown figures never raise the level", "[pressure]") {
  CHECK(level_of(PressureReading{}) == PressureLevel::Normal);
  PressureReading psi_only;
  psi_only.psi_some_avg10 = 1.0;
  psi_only.psi_full_avg10 = 0.0;
  CHECK(level_of(psi_only) == PressureLevel::Normal);
  PressureReading headroom_only;
  headroom_only.cgroup_headroom = 8 * kGiB;
  CHECK(level_of(headroom_only) == PressureLevel::Normal);
}

TEST_CASE("the tighter of MemAvailable and the cgroup headroom decides", "[pressure]") {
  PressureReading r = available(8 * kGiB);
  r.cgroup_headroom = 300 * kMiB;
  PressureVerdict v = classify(r, config());
  CHECK(v.level == PressureLevel::High);
  CHECK(v.why == "cgroup headroom 300 MiB < reserve 512 MiB");

  r.memory_available = 100 * kMiB;  // now MemAvailable is tighter
  v = classify(r, config());
  CHECK(v.level == PressureLevel::Critical);
  CHECK(v.why == "available 100 MiB < critical 256 MiB");

  PressureReading headroom_only;
  headroom_only.cgroup_headroom = 100 * kMiB;
  CHECK(level_of(headroom_only) == PressureLevel::Critical);
}

TEST_CASE("PSI above its thresholds raises the level", "[pressure]") {
  PressureReading r = kCalm;
  r.psi_some_avg10 = 20.0;  // equal is not above
  r.psi_full_avg10 = 50.0;
  CHECK(level_of(r) == PressureLevel::Normal);

  r.psi_some_avg10 = 25.0;
  PressureVerdict high = classify(r, config());
  CHECK(high.level == PressureLevel::High);
  CHECK(high.why == "memory PSI some avg10 25.0% > 20%");

  r.psi_full_avg10 = 63.0;
  PressureVerdict critical = classify(r, config());
  CHECK(critical.level == PressureLevel::Critical);
  CHECK(critical.why == "memory PSI full avg10 63.0% > 50%");

  // Full stall without "some" above its threshold is still critical.
  PressureReading full_only = kCalm;
  full_only.psi_full_avg10 = 50.5;
  CHECK(level_of(full_only) == PressureLevel::Critical);

  // Memory decides the wording when both are past their thresholds.
  PressureReading both = kCritical;
  both.psi_full_avg10 = 90.0;
  CHECK(classify(both, config()).why == "available 100 MiB < critical 256 MiB");
}

TEST_CASE("a disabled guard is always Normal", "[pressure]") {
  PressureConfig c = config();
  c.enabled = false;
  PressureReading r = available(0);
  r.psi_some_avg10 = 100.0;
  r.psi_full_avg10 = 100.0;
  CHECK(classify(r, c).level == PressureLevel::Normal);

  PressureGuard guard(c);
  Time t{};
  for (int i = 0; i < 5; ++i, t += 1s) {
    PressureDecision d = guard.update(r, 4, 0, t);
    CHECK(d.admit);
    CHECK_FALSE(d.act_on_youngest);
    CHECK_FALSE(d.resume_one);
  }
}

TEST_CASE("level names", "[pressure]") {
  CHECK(std::string(to_string(PressureLevel::Normal)) == "normal");
  CHECK(std::string(to_string(PressureLevel::High)) == "high");
  CHECK(std::string(to_string(PressureLevel::Critical)) == "critical");
  CHECK(std::string(to_string(PressureAction::Suspend)) == "suspend");
  CHECK(std::string(to_string(PressureAction::Requeue)) == "requeue");
}

TEST_CASE("admission stops above Normal unless nothing runs", "[pressure]") {
  PressureGuard guard(config());
  Time t{};
  CHECK(guard.update(kCalm, 3, 0, t).admit);
  CHECK_FALSE(guard.update(kHigh, 3, 0, t).admit);
  CHECK(guard.update(kHigh, 0, 0, t).admit);  // a run always makes progress
  CHECK_FALSE(guard.update(kCritical, 1, 0, t).admit);
  CHECK(guard.update(kCritical, 0, 0, t).admit);
  // Nothing runs because everything is suspended: no new job starts.
  CHECK_FALSE(guard.update(kHigh, 0, 2, t).admit);
  // Suspended jobs resume before any new job starts, calm or not.
  CHECK_FALSE(guard.update(kCalm, 2, 1, t).admit);
}

TEST_CASE("with every job suspended one is resumed at any level, paced by settle", "[pressure]") {
  PressureGuard guard(config());
  Time t{};
  PressureDecision first = guard.update(kCritical, 0, 2, t);
  CHECK(first.resume_one);
  CHECK_FALSE(first.admit);
  CHECK_FALSE(guard.update(kCritical, 0, 2, t + 1s).resume_one);
  CHECK(guard.update(kHigh, 0, 2, t + 2s).resume_one);
}

TEST_CASE("High stops admission but never acts", "[pressure]") {
  PressureGuard guard(config());
  Time t{};
  for (int i = 0; i < 5; ++i, t += 3s) {
    PressureDecision d = guard.update(kHigh, 4, 0, t);
    CHECK_FALSE(d.act_on_youngest);
    CHECK(d.verdict.level == PressureLevel::High);
  }
}

TEST_CASE("actions under Critical are one per settle, the first at once", "[pressure]") {
  PressureGuard guard(config());
  Time t{};
  CHECK(guard.update(kCritical, 4, 0, t).act_on_youngest);
  CHECK_FALSE(guard.update(kCritical, 3, 1, t).act_on_youngest);
  CHECK_FALSE(guard.update(kCritical, 3, 1, t + 1999ms).act_on_youngest);
  CHECK(guard.update(kCritical, 3, 1, t + 2000ms).act_on_youngest);
  CHECK_FALSE(guard.update(kCritical, 2, 2, t + 3000ms).act_on_youngest);
  CHECK(guard.update(kCritical, 2, 2, t + 4000ms).act_on_youngest);
}

TEST_CASE("the last running job is never acted on", "[pressure]") {
  PressureGuard guard(config());
  Time t{};
  for (size_t running : {size_t{1}, size_t{1}}) {
    PressureDecision d = guard.update(kCritical, running, 3, t);
    CHECK_FALSE(d.act_on_youngest);
    CHECK_FALSE(d.resume_one);  // nor is anything resumed under Critical
    t += 5s;
  }
  // Not acting does not use up the settle period: a second job acts at once.
  CHECK(guard.update(kCritical, 2, 3, t).act_on_youngest);
}

TEST_CASE("resuming waits for settle of Normal and goes one at a time", "[pressure]") {
  PressureGuard guard(config());
  Time t{};
  REQUIRE(guard.update(kCritical, 3, 0, t).act_on_youngest);

  t += 500ms;  // Normal from here
  CHECK_FALSE(guard.update(kCalm, 2, 1, t).resume_one);
  CHECK_FALSE(guard.update(kCalm, 2, 1, t + 1999ms).resume_one);
  PressureDecision first = guard.update(kCalm, 2, 2, t + 2000ms);
  CHECK(first.resume_one);
  CHECK_FALSE(first.act_on_youngest);
  CHECK_FALSE(first.admit);  // not while a job waits to resume
  // The resume counts as an action: the next waits another settle.
  CHECK_FALSE(guard.update(kCalm, 3, 1, t + 2000ms).resume_one);
  CHECK_FALSE(guard.update(kCalm, 3, 1, t + 3999ms).resume_one);
  CHECK(guard.update(kCalm, 3, 1, t + 4000ms).resume_one);
  // Nothing suspended: nothing to resume.
  CHECK_FALSE(guard.update(kCalm, 4, 0, t + 10s).resume_one);
}

TEST_CASE("a flapping level resets the wait before resuming", "[pressure]") {
  PressureGuard guard(config());
  Time t{};
  REQUIRE(guard.update(kCritical, 3, 0, t).act_on_youngest);

  t += 3s;
  CHECK_FALSE(guard.update(kCalm, 2, 1, t).resume_one);  // Normal since t
  CHECK_FALSE(guard.update(kHigh, 2, 1, t + 1500ms).resume_one);
  CHECK_FALSE(guard.update(kCalm, 2, 1, t + 1600ms).resume_one);  // Normal again since here
  CHECK_FALSE(guard.update(kCalm, 2, 1, t + 2500ms).resume_one);  // 2.5 s since t, but not calm
  CHECK_FALSE(guard.update(kCalm, 2, 1, t + 3599ms).resume_one);
  CHECK(guard.update(kCalm, 2, 1, t + 3600ms).resume_one);
}

TEST_CASE("a decision never both acts and resumes", "[pressure]") {
  PressureGuard guard(config());
  Time t{};
  for (int i = 0; i < 40; ++i, t += 700ms) {
    const PressureReading& r = (i / 5) % 2 == 0 ? kCritical : kCalm;
    PressureDecision d = guard.update(r, 3, 2, t);
    CHECK_FALSE((d.act_on_youngest && d.resume_one));
  }
}
