// From stored attempts to forecasts: which attempts are samples, what each
// gives per resource, and how past predictions are judged.
#include <optional>
#include <vector>

#include <catch2/catch.hpp>

#include "profile/forecast.h"

using namespace wp;
using namespace wp::profile;

namespace {

constexpr Bytes kMiB = 1024 * 1024;

// An attempt that exited 0 after `wall` seconds with the given peak memory.
AttemptRecord ran(Bytes peak_memory, double wall = 10) {
  AttemptRecord attempt;
  attempt.exit_code = 0;
  attempt.wall_seconds = wall;
  attempt.usage.method = "cgroup v2";
  attempt.usage.peak_memory = peak_memory;
  attempt.usage.peak_cores = 2.0;
  attempt.usage.average_cores = 1.5;
  attempt.usage.read_ops = 300;
  attempt.usage.write_ops = 200;
  return attempt;
}

AttemptRecord oom_killed(Bytes peak_memory) {
  AttemptRecord attempt = ran(peak_memory);
  attempt.exit_code.reset();
  attempt.signal = 9;
  attempt.usage.oom_killed = true;
  return attempt;
}

AttemptRecord predicted_memory(Bytes actual, Bytes predicted) {
  AttemptRecord attempt = ran(actual);
  attempt.predicted.memory = predicted;
  return attempt;
}

}  // namespace

TEST_CASE("forecast: iops is device operations over wall time", "[profile]") {
  AttemptRecord attempt = ran(kMiB, 10);
  CHECK(attempt.iops() == Approx(50.0));  // (300 + 200) / 10
  attempt.usage.write_ops.reset();        // procfs counts no operations
  CHECK_FALSE(attempt.iops().has_value());
  attempt = ran(kMiB, 0);
  CHECK_FALSE(attempt.iops().has_value());
}

TEST_CASE("forecast: the figure an attempt gives for each resource", "[profile]") {
  AttemptRecord attempt = ran(100 * kMiB, 20);
  CHECK(figure_of(attempt, Resource::Memory) == Approx(100.0 * kMiB));
  // The average, not the momentary peak: what the job takes over its run.
  CHECK(figure_of(attempt, Resource::Cores) == Approx(1.5));
  CHECK(figure_of(attempt, Resource::Wall) == Approx(20.0));
  CHECK(figure_of(attempt, Resource::Iops) == Approx(25.0));

  attempt.usage.average_cores.reset();  // no average: the peak stands in
  CHECK(figure_of(attempt, Resource::Cores) == Approx(2.0));
  attempt.usage.peak_cores.reset();
  CHECK_FALSE(figure_of(attempt, Resource::Cores).has_value());
  attempt.usage.peak_memory.reset();
  CHECK_FALSE(figure_of(attempt, Resource::Memory).has_value());
  attempt.wall_seconds = 0;
  CHECK_FALSE(figure_of(attempt, Resource::Wall).has_value());
}

TEST_CASE("forecast: only attempts that succeeded are samples", "[profile]") {
  CHECK(figure_of(ran(kMiB), Resource::Memory).has_value());
  AttemptRecord failed = ran(kMiB);
  failed.exit_code = 2;  // may have stopped at its first line
  CHECK_FALSE(figure_of(failed, Resource::Memory).has_value());

  AttemptRecord timed_out = ran(kMiB);
  timed_out.timed_out = true;
  AttemptRecord requeued = ran(kMiB);
  requeued.requeued = true;
  AttemptRecord signalled = ran(kMiB);
  signalled.exit_code.reset();
  signalled.signal = 15;
  AttemptRecord never_exited = ran(kMiB);
  never_exited.exit_code.reset();
  AttemptRecord killed_but_exited = ran(kMiB);  // a child OOM-killed, the job exited 1
  killed_but_exited.exit_code = 1;
  killed_but_exited.usage.oom_killed = true;

  for (const AttemptRecord* attempt :
       {&timed_out, &requeued, &signalled, &never_exited, &killed_but_exited}) {
    for (Resource resource : {Resource::Memory, Resource::Cores, Resource::Wall, Resource::Iops}) {
      CHECK_FALSE(figure_of(*attempt, resource).has_value());
    }
  }
  CHECK_FALSE(figure_of(oom_killed(kMiB), Resource::Memory).has_value());
}

TEST_CASE("forecast: OOM-killed, timed-out and requeued attempts do not raise the forecast",
          "[profile]") {
  std::vector<AttemptRecord> history;
  for (int i = 0; i < 5; ++i)
    history.push_back(ran(100 * kMiB));
  history.push_back(oom_killed(1024 * kMiB));
  AttemptRecord timed_out = ran(2048 * kMiB, 600);
  timed_out.timed_out = true;
  history.push_back(timed_out);
  AttemptRecord requeued = ran(4096 * kMiB, 300);
  requeued.requeued = true;
  history.push_back(requeued);

  Forecast result = forecast(history, std::nullopt);
  CHECK(result.samples == 5);
  REQUIRE(result.memory);
  CHECK(result.memory->value == Approx(100.0 * kMiB));
  CHECK(result.memory->upper == Approx(100.0 * kMiB));
  CHECK(result.memory->samples == 5);
  REQUIRE(result.wall);
  CHECK(result.wall->value == Approx(10.0));
  REQUIRE(result.cores);
  CHECK(result.cores->value == Approx(1.5));
  REQUIRE(result.iops);
  CHECK(result.iops->value == Approx(50.0));
  CHECK(&result.of(Resource::Memory) == &result.memory);
  CHECK(&result.of(Resource::Cores) == &result.cores);
  CHECK(&result.of(Resource::Wall) == &result.wall);
  CHECK(&result.of(Resource::Iops) == &result.iops);
}

TEST_CASE("forecast: too few usable attempts forecast nothing", "[profile]") {
  std::vector<AttemptRecord> history = {ran(kMiB), oom_killed(kMiB), ran(kMiB)};
  Forecast result = forecast(history, std::nullopt);
  CHECK(result.samples == 2);
  CHECK_FALSE(result.memory.has_value());
  CHECK_FALSE(result.wall.has_value());
  CHECK_FALSE(forecast({}, std::nullopt).memory.has_value());
}

TEST_CASE("forecast: a resource not measured is not forecast", "[profile]") {
  std::vector<AttemptRecord> history;
  for (int i = 0; i < 4; ++i) {
    AttemptRecord attempt = ran(kMiB);
    attempt.usage.read_ops.reset();  // procfs: no device operations
    history.push_back(attempt);
  }
  Forecast result = forecast(history, std::nullopt);
  CHECK(result.memory.has_value());
  CHECK_FALSE(result.iops.has_value());
  CHECK(result.samples == 4);
}

TEST_CASE("forecast: input sizes reach the predictor", "[profile]") {
  // Memory = 64 MiB + 1 byte per input byte, input sizes out of order.
  std::vector<AttemptRecord> history;
  for (Bytes input : {10 * kMiB, 40 * kMiB, 20 * kMiB, 80 * kMiB, 30 * kMiB, 60 * kMiB}) {
    AttemptRecord attempt = ran(64 * kMiB + input);
    attempt.input_bytes = input;
    history.push_back(attempt);
  }
  Forecast result = forecast(history, static_cast<double>(50 * kMiB));
  REQUIRE(result.memory);
  CHECK(result.memory->predictor == Predictor::InputFit);
  CHECK(result.memory->value == Approx(static_cast<double>(114 * kMiB)));
}

TEST_CASE("forecast: tiny jobs' noise does not cost them confidence", "[profile]") {
  // Two sleeps: a few thousandths of a core and a few hundred KiB each
  // time, one of them noisier than the other below any figure admission
  // tells apart (tenths of a core, MiB). Their confidences agree.
  auto sleep_like = [](std::vector<double> cores, std::vector<Bytes> memory) {
    std::vector<AttemptRecord> history;
    for (size_t i = 0; i < cores.size(); ++i) {
      AttemptRecord a = ran(memory[i], 1.0 + 0.001 * static_cast<double>(i % 2));
      a.usage.average_cores = cores[i];
      a.usage.peak_cores = cores[i] * 10;
      history.push_back(a);
    }
    return forecast(history, std::nullopt);
  };
  Forecast quiet =
      sleep_like({0.001, 0.001, 0.001, 0.001}, {256 << 10, 256 << 10, 256 << 10, 256 << 10});
  Forecast noisy =
      sleep_like({0.001, 0.001, 0.0012, 0.002}, {256 << 10, 404 << 10, 256 << 10, 640 << 10});
  REQUIRE(quiet.cores);
  REQUIRE(noisy.cores);
  REQUIRE(quiet.memory);
  REQUIRE(noisy.memory);
  CHECK(noisy.cores->confidence == Approx(quiet.cores->confidence).epsilon(0.02));
  CHECK(noisy.memory->confidence == Approx(quiet.memory->confidence).epsilon(0.2));
  CHECK(noisy.memory->confidence > 0.3);
  CHECK(noisy.wall->confidence == Approx(quiet.wall->confidence).epsilon(0.01));
}

TEST_CASE("forecast: resource names", "[profile]") {
  CHECK(to_string(Resource::Memory) == "memory");
  CHECK(to_string(Resource::Cores) == "cores");
  CHECK(to_string(Resource::Wall) == "wall");
  CHECK(to_string(Resource::Iops) == "iops");
}

TEST_CASE("forecast: accuracy counts predictions within 1.25x and under", "[profile]") {
  std::vector<AttemptRecord> history = {
      predicted_memory(100 * kMiB, 100 * kMiB),  // exact: within, error 0
      predicted_memory(100 * kMiB, 125 * kMiB),  // the edge: within, error 0.25
      predicted_memory(100 * kMiB, 150 * kMiB),  // over by too much, error 0.5
      predicted_memory(100 * kMiB, 80 * kMiB),   // under, error 0.2
      ran(100 * kMiB),                           // no prediction: not counted
  };
  AttemptRecord oom = oom_killed(100 * kMiB);  // judged elsewhere, as an OOM kill
  oom.predicted.memory = 50 * kMiB;
  history.push_back(oom);
  AttemptRecord unmeasured = predicted_memory(100 * kMiB, 100 * kMiB);
  unmeasured.usage.peak_memory.reset();
  history.push_back(unmeasured);

  Accuracy memory = accuracy(history, Resource::Memory);
  CHECK(memory.predicted == 4);
  CHECK(memory.within == 2);
  CHECK(memory.under == 1);
  CHECK(memory.mean_abs_error == Approx((0 + 0.25 + 0.5 + 0.2) / 4));
  REQUIRE(memory.hit_rate());
  CHECK(*memory.hit_rate() == Approx(0.5));

  // No predictions of another resource were stored.
  Accuracy wall = accuracy(history, Resource::Wall);
  CHECK(wall.predicted == 0);
  CHECK_FALSE(wall.hit_rate().has_value());
}

TEST_CASE("forecast: accuracy of cores, wall and iops predictions", "[profile]") {
  AttemptRecord attempt = ran(kMiB, 10);  // average cores 1.5, wall 10, iops 50
  attempt.predicted.cores = 1.8;          // within
  attempt.predicted.wall_seconds = 9;     // under
  attempt.predicted.iops = 70;            // over
  std::vector<AttemptRecord> history = {attempt};

  Accuracy cores = accuracy(history, Resource::Cores);
  CHECK(cores.within == 1);
  CHECK(cores.mean_abs_error == Approx(0.2));
  Accuracy wall = accuracy(history, Resource::Wall);
  CHECK(wall.under == 1);
  CHECK(wall.within == 0);
  CHECK(wall.mean_abs_error == Approx(0.1));
  Accuracy iops = accuracy(history, Resource::Iops);
  CHECK(iops.predicted == 1);
  CHECK(iops.within == 0);
  CHECK(iops.under == 0);
  CHECK(iops.mean_abs_error == Approx(0.4));
}

TEST_CASE("forecast: accuracy against a zero measurement skips the relative error", "[profile]") {
  AttemptRecord idle = ran(kMiB);
  idle.usage.read_ops = 0;
  idle.usage.write_ops = 0;
  idle.predicted.iops = 0;
  AttemptRecord busy = ran(kMiB);  // 50 iops
  busy.predicted.iops = 55;
  std::vector<AttemptRecord> history = {idle, busy};
  Accuracy iops = accuracy(history, Resource::Iops);
  CHECK(iops.predicted == 2);
  CHECK(iops.within == 2);  // 0 <= 0 <= 0
  CHECK(iops.mean_abs_error == Approx(0.1));
}
