// Admission decisions from forecasts (--learn auto/conservative/off) and the
// regression flags, on fixed predictions and histories.
#include <catch2/catch.hpp>

#include "profile/learn.h"

using namespace wp;
using namespace wp::profile;

namespace {

constexpr Bytes kMiB = 1ull << 20;
constexpr Bytes kGiB = 1ull << 30;

Prediction prediction(double value, double confidence) {
  Prediction p;
  p.value = value;
  p.upper = value * 1.2;
  p.largest = value;
  p.confidence = confidence;
  p.predictor = Predictor::P95;
  p.samples = 12;
  return p;
}

Resources declared(double cpu, Bytes memory) {
  Resources r;
  r.cpu = Cores::from_double(cpu);
  r.memory = memory;
  return r;
}

Resources machine() {
  Resources r;
  r.cpu = Cores::from_double(8);
  r.memory = 16 * kGiB;
  r.iops = Resources::kUnlimited;
  return r;
}

LearnOptions mode(LearnMode m) {
  LearnOptions options;
  options.mode = m;
  return options;
}

AttemptRecord measured(double seconds, Bytes peak) {
  AttemptRecord a;
  a.exit_code = 0;
  a.wall_seconds = seconds;
  a.usage.peak_memory = peak;
  return a;
}

}  // namespace

TEST_CASE("learn: auto lowers an over-declared job to the prediction plus margin", "[profile]") {
  Forecast f;
  f.memory = prediction(1000.0 * kMiB, 0.9);
  Decision d = decide(declared(1, 4 * kGiB), f, machine(), mode(LearnMode::Auto));
  // 1000 MiB x 1.1 = 1100 MiB, whole MiB.
  CHECK(d.demand.memory == 1100 * kMiB);
  CHECK(d.predicted.memory == 1100 * kMiB);
  REQUIRE(d.changes.size() == 1);
  CHECK(d.changes[0].find("memory 4 GiB -> ") == 0);
  CHECK(d.changes[0].find("p95 of 12 runs, confidence 0.90") != std::string::npos);
}

TEST_CASE("learn: auto raises an under-declared job", "[profile]") {
  Forecast f;
  f.memory = prediction(2.0 * kGiB, 0.9);
  Decision d = decide(declared(1, 512 * kMiB), f, machine(), mode(LearnMode::Auto));
  CHECK(d.demand.memory > 2 * kGiB);
  CHECK_FALSE(d.memory_beyond_capacity);
}

TEST_CASE("learn: a job predicted above the memory capacity gets all of it, and it is said",
          "[profile]") {
  Forecast f;
  f.memory = prediction(20.0 * kGiB, 0.9);
  Decision d = decide(declared(1, 512 * kMiB), f, machine(), mode(LearnMode::Auto));
  CHECK(d.demand.memory == 16 * kGiB);
  REQUIRE(d.memory_beyond_capacity);
  CHECK(*d.memory_beyond_capacity == 22 * kGiB);  // 20 GiB x 1.1
  // Not when admission keeps the declaration (too little confidence).
  f.memory = prediction(20.0 * kGiB, 0.1);
  CHECK_FALSE(
      decide(declared(1, 512 * kMiB), f, machine(), mode(LearnMode::Auto)).memory_beyond_capacity);
}

TEST_CASE("learn: conservative only raises", "[profile]") {
  Forecast low;
  low.memory = prediction(100.0 * kMiB, 0.95);
  Decision kept = decide(declared(1, 4 * kGiB), low, machine(), mode(LearnMode::Conservative));
  CHECK(kept.demand.memory == 4 * kGiB);
  CHECK(kept.changes.empty());
  // The prediction is still recorded, for accuracy.
  CHECK(kept.predicted.memory == 110 * kMiB);

  Forecast high;
  high.memory = prediction(6.0 * kGiB, 0.95);
  Decision raised = decide(declared(1, 4 * kGiB), high, machine(), mode(LearnMode::Conservative));
  CHECK(raised.demand.memory > 6 * kGiB);
}

TEST_CASE("learn: off keeps every declaration", "[profile]") {
  Forecast f;
  f.memory = prediction(100.0 * kMiB, 1.0);
  f.cores = prediction(0.2, 1.0);
  Decision d = decide(declared(4, 4 * kGiB), f, machine(), mode(LearnMode::Off));
  CHECK(d.demand == declared(4, 4 * kGiB));
  CHECK(d.changes.empty());
  CHECK(d.predicted.memory.has_value());
}

TEST_CASE("learn: a prediction below the confidence threshold is not used to lower", "[profile]") {
  Forecast f;
  f.memory = prediction(100.0 * kMiB, 0.4);
  Decision d = decide(declared(1, 4 * kGiB), f, machine(), mode(LearnMode::Auto));
  CHECK(d.demand.memory == 4 * kGiB);
  // Cores only slow a job down when short: lowering them takes half the
  // confidence too, 0.4 lowers them but not memory; 0.2 lowers neither.
  Forecast both;
  both.memory = prediction(100.0 * kMiB, 0.4);
  both.cores = prediction(1.0, 0.4);
  Decision lowered = decide(declared(2, 4 * kGiB), both, machine(), mode(LearnMode::Auto));
  CHECK(lowered.demand.cpu == Cores::from_double(1.0));
  CHECK(lowered.demand.memory == 4 * kGiB);
  both.cores = prediction(1.0, 0.2);
  CHECK(decide(declared(2, 4 * kGiB), both, machine(), mode(LearnMode::Auto)).demand.cpu ==
        Cores::from_double(2.0));
  // Raising takes half the confidence: 0.4 is enough for that.
  Forecast up;
  up.memory = prediction(8.0 * kGiB, 0.4);
  CHECK(decide(declared(1, 4 * kGiB), up, machine(), mode(LearnMode::Auto)).demand.memory >
        8 * kGiB);
  // An earlier command's history counts at half: 0.6 x 0.5 does not lower.
  Forecast earlier;
  earlier.memory = prediction(100.0 * kMiB, 0.6);
  CHECK(
      decide(declared(1, 4 * kGiB), earlier, machine(), mode(LearnMode::Auto), 0.5).demand.memory ==
      4 * kGiB);
}

TEST_CASE("learn: a decision never exceeds the capacity", "[profile]") {
  Forecast f;
  f.memory = prediction(40.0 * kGiB, 0.9);
  f.cores = prediction(30, 0.9);
  Decision d = decide(declared(1, 4 * kGiB), f, machine(), mode(LearnMode::Auto));
  CHECK(d.demand.memory == 16 * kGiB);
  CHECK(d.demand.cpu == Cores::from_double(8));
}

TEST_CASE("learn: cores round to the nearest tenth, no margin, and never below one", "[profile]") {
  Forecast f;
  f.cores = prediction(0.01, 0.9);
  Decision d = decide(declared(2, kGiB), f, machine(), mode(LearnMode::Auto));
  CHECK(d.demand.cpu == Cores::from_double(0.1));
  f.cores = prediction(1.46, 0.9);
  CHECK(decide(declared(2, kGiB), f, machine(), mode(LearnMode::Auto)).demand.cpu ==
        Cores::from_double(1.5));
  // A one-core job measured a little over one core: two fit on two cores.
  f.cores = prediction(1.02, 0.9);
  CHECK(decide(declared(2, kGiB), f, machine(), mode(LearnMode::Auto)).demand.cpu ==
        Cores::from_double(1.0));
}

TEST_CASE("learn: cores are never predicted above the most measured", "[profile]") {
  // A one-core job slowed by its neighbours in some runs (0.55 to 0.97
  // cores): mean + 2sd says 1.2, more than it ever used.
  Forecast f;
  f.cores = prediction(1.2, 0.9);
  f.cores->largest = 0.97;
  CHECK(decide(declared(2, kGiB), f, machine(), mode(LearnMode::Auto)).demand.cpu ==
        Cores::from_double(1.0));
  // Memory keeps its margin above the largest: running out of it kills.
  f.memory = prediction(1.0 * kGiB, 0.9);
  f.memory->largest = 0.5 * kGiB;
  CHECK(decide(declared(2, 4 * kGiB), f, machine(), mode(LearnMode::Auto)).demand.memory >= kGiB);
}

TEST_CASE("learn: IOPS are learned only when the capacity limits them", "[profile]") {
  Forecast f;
  f.iops = prediction(100, 0.9);
  Resources limited = machine();
  limited.iops = 1000;
  Resources job = declared(1, kGiB);
  job.iops = 500;
  CHECK(decide(job, f, limited, mode(LearnMode::Auto)).demand.iops == 110);
  CHECK(decide(job, f, machine(), mode(LearnMode::Auto)).demand.iops == 500);
}

TEST_CASE("learn: a rise beyond the threshold over the median is a regression", "[profile]") {
  std::vector<AttemptRecord> history;
  for (int i = 0; i < 20; ++i)
    history.push_back(measured(10.0 + i % 3, 2 * kGiB));
  auto found = regressions("build", measured(10.5, 3 * kGiB), history, 0.25);
  REQUIRE(found.size() == 1);
  CHECK(found[0].resource == "peak memory");
  CHECK(found[0].samples == 20);
  CHECK(found[0].describe() == "build: peak memory 3 GiB, +50% vs median of last 20");

  auto slow = regressions("build", measured(30, 2 * kGiB), history, 0.25);
  REQUIRE(slow.size() == 1);
  CHECK(slow[0].resource == "wall time");
  CHECK(regressions("build", measured(12, 2 * kGiB + 100 * kMiB), history, 0.25).empty());
}

TEST_CASE("learn: small absolute rises and short histories are not regressions", "[profile]") {
  std::vector<AttemptRecord> tiny;
  for (int i = 0; i < 10; ++i)
    tiny.push_back(measured(0.01, 2 * kMiB));
  // +400% but only 8 MiB and 0.04 s more: noise.
  CHECK(regressions("t", measured(0.05, 10 * kMiB), tiny, 0.25).empty());
  std::vector<AttemptRecord> two{measured(10, kGiB), measured(10, kGiB)};
  CHECK(regressions("t", measured(100, 4 * kGiB), two, 0.25).empty());
}

TEST_CASE("learn: an OOM kill raises the next run to what succeeded since", "[profile]") {
  std::vector<AttemptRecord> history{measured(1, 40 * kMiB)};
  CHECK_FALSE(memory_after_oom(history, 1.1).has_value());

  AttemptRecord killed = measured(1, 62 * kMiB);
  killed.usage.oom_killed = true;
  killed.signal = 9;
  killed.exit_code.reset();
  killed.admitted.memory = 50 * kMiB;
  history.push_back(killed);
  // Nothing succeeded since: twice what it had (its 62 MiB peak was the limit).
  CHECK(memory_after_oom(history, 1.1) == 124 * kMiB);

  history.push_back(measured(1, 150 * kMiB));  // the retry, with more memory
  std::optional<Bytes> floor = memory_after_oom(history, 1.1);
  REQUIRE(floor);
  CHECK(*floor == static_cast<Bytes>(150.0 * kMiB * 1.1));

  // No confident prediction (one sample), yet the floor raises the demand.
  Decision d =
      decide(declared(1, 50 * kMiB), Forecast{}, machine(), mode(LearnMode::Auto), 1.0, floor);
  CHECK(d.demand.memory == 165 * kMiB);
  REQUIRE(d.changes.size() == 1);
  CHECK(d.changes[0] == "memory 50 MiB -> 165 MiB (OOM-killed in an earlier run)");
  CHECK(decide(declared(1, 50 * kMiB), Forecast{}, machine(), mode(LearnMode::Conservative), 1.0,
               floor)
            .demand.memory == 165 * kMiB);
  CHECK(decide(declared(1, 50 * kMiB), Forecast{}, machine(), mode(LearnMode::Off), 1.0, floor)
            .demand.memory == 50 * kMiB);
  // Never above the capacity.
  CHECK(decide(declared(1, 50 * kMiB), Forecast{}, machine(), mode(LearnMode::Auto), 1.0, 64 * kGiB)
            .demand.memory == 16 * kGiB);
}

TEST_CASE("learn: no regression against a median of nothing", "[profile]") {
  std::vector<AttemptRecord> unmeasured;
  for (int i = 0; i < 5; ++i)
    unmeasured.push_back(measured(0.5, 0));
  CHECK(regressions("q", measured(0.5, 20 * kMiB), unmeasured, 0.25).empty());
}

TEST_CASE("learn: a rise its inputs explain is not a regression", "[profile]") {
  std::vector<AttemptRecord> history;
  for (int i = 0; i < 6; ++i) {
    history.push_back(measured(10, kGiB));
    history.back().input_bytes = 100 * kMiB;
  }
  AttemptRecord bigger = measured(40, 4 * kGiB);
  bigger.input_bytes = 400 * kMiB;
  CHECK(regressions("etl", bigger, history, 0.25).empty());
  bigger.input_bytes = 110 * kMiB;  // the same work, four times the memory
  CHECK(regressions("etl", bigger, history, 0.25).size() == 2);
}
