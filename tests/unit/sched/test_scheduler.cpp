#include <catch2/catch.hpp>

#include <limits>
#include <optional>

#include "sched/scheduler.h"

using wp::Cores;
using wp::Resources;
using wp::sched::JobDemand;
using wp::sched::JobState;
using wp::sched::Scheduler;

namespace {

Resources need(double cpu, uint64_t mib = 100) {
  Resources r;
  r.cpu = Cores::from_double(cpu);
  r.memory = mib << 20;
  return r;
}

Resources capacity(double cpu, uint64_t mib) {
  Resources r = need(cpu, mib);
  r.iops = Resources::kUnlimited;
  return r;
}

JobDemand job(const char* name, Resources demand, int64_t priority = 0,
              std::vector<size_t> after = {}) {
  return JobDemand{name, demand, priority, std::move(after), std::nullopt, std::nullopt};
}

}  // namespace

TEST_CASE("admission never exceeds capacity in any dimension", "[sched]") {
  wp::sched::Policy strict;
  strict.cpu_overcommit = 1;
  Scheduler s({job("a", need(1.5)), job("b", need(1)), job("c", need(0.5)), job("d", need(0.5))},
              capacity(2, 1024), strict);
  auto started = s.admit();
  // First fit in queue order: a (1.5) fits, b (1) does not, c (0.5) fills it.
  CHECK(started == std::vector<size_t>{0, 2});
  CHECK(s.tracker().in_use().cpu == Cores::from_double(2));
  CHECK(s.admit().empty());
  s.finished(0, true);
  CHECK(s.admit() == std::vector<size_t>{1, 3});
  CHECK(s.tracker().in_use().fits_in(s.tracker().capacity()));
}

TEST_CASE("admission overcommits CPU by the policy's factor and nothing else", "[sched]") {
  // 2 cores x 1.25 = 2.5 for CPU; memory stays 1024 MiB.
  Scheduler s({job("a", need(1)), job("b", need(1)), job("c", need(0.5)), job("d", need(0.1)),
               job("e", need(0.1, 1000))},
              capacity(2, 1024));
  CHECK(s.tracker().capacity().cpu == Cores::from_double(2.5));
  CHECK(s.tracker().capacity().memory == (uint64_t{1024} << 20));
  // a, b and c make 2.5; d would make 2.6; e fits by CPU, not by memory.
  CHECK(s.admit() == std::vector<size_t>{0, 1, 2});
  s.finished(2, true);
  CHECK(s.admit() == std::vector<size_t>{3});
  CHECK(s.tracker().in_use().cpu == Cores::from_double(2.1));
}

TEST_CASE("memory is a dimension of its own", "[sched]") {
  Scheduler s(
      {job("big", need(0.1, 800)), job("big2", need(0.1, 800)), job("small", need(0.1, 200))},
      capacity(8, 1024));
  CHECK(s.admit() == std::vector<size_t>{0, 2});
}

TEST_CASE("higher priority is admitted first, then manifest order", "[sched]") {
  Scheduler s({job("low", need(1)), job("high", need(1), 10), job("mid", need(1), 5)},
              capacity(1, 1024));
  CHECK(s.admit() == std::vector<size_t>{1});
  s.finished(1, true);
  CHECK(s.admit() == std::vector<size_t>{2});
  s.finished(2, true);
  CHECK(s.admit() == std::vector<size_t>{0});
}

TEST_CASE("a job waits for all its dependencies to succeed", "[sched]") {
  Scheduler s({job("a", need(1)), job("b", need(1)), job("c", need(1), 0, {0, 1})},
              capacity(4, 1024));
  CHECK(s.admit() == std::vector<size_t>{0, 1});
  CHECK(s.state(2) == JobState::Waiting);
  s.finished(0, true);
  CHECK(s.admit().empty());
  s.finished(1, true);
  CHECK(s.admit() == std::vector<size_t>{2});
  s.finished(2, true);
  CHECK(s.all_done());
}

TEST_CASE("a failed dependency skips its dependents transitively, with the reason", "[sched]") {
  Scheduler s(
      {job("a", need(1)), job("b", need(1), 0, {0}), job("c", need(1), 0, {1}), job("d", need(1))},
      capacity(1, 1024));
  CHECK(s.admit() == std::vector<size_t>{0});
  s.finished(0, false);
  CHECK(s.state(1) == JobState::Skipped);
  CHECK(s.state(2) == JobState::Skipped);
  CHECK(s.reason(2) == "dependency 'a' failed");
  CHECK(s.admit() == std::vector<size_t>{3});
  s.finished(3, true);
  CHECK(s.all_done());
}

TEST_CASE("stop skips what never started and lets retries of started jobs run", "[sched]") {
  Scheduler s({job("a", need(1)), job("b", need(1)), job("c", need(1))}, capacity(2, 1024));
  CHECK(s.admit() == std::vector<size_t>{0, 1});
  s.retry_later(0);
  s.stop("stopped", false);
  CHECK(s.state(2) == JobState::Skipped);
  CHECK(s.reason(2) == "stopped");
  CHECK(s.state(0) == JobState::Backoff);
  s.requeue(0);
  CHECK(s.admit() == std::vector<size_t>{0});
  s.finished(0, true);
  s.finished(1, true);
  CHECK(s.all_done());
}

TEST_CASE("stop with cancel_retries also skips pending retries", "[sched]") {
  Scheduler s({job("a", need(1))}, capacity(2, 1024));
  CHECK(s.admit() == std::vector<size_t>{0});
  s.retry_later(0);
  s.stop("interrupted", true);
  CHECK(s.state(0) == JobState::Skipped);
  CHECK(s.all_done());
}

TEST_CASE("a long dependency chain is skipped without recursion", "[sched]") {
  std::vector<JobDemand> jobs;
  for (size_t i = 0; i < 200000; ++i) {
    jobs.push_back(
        job("x", need(0.001), 0, i ? std::vector<size_t>{i - 1} : std::vector<size_t>{}));
  }
  Scheduler s(std::move(jobs), capacity(1, 1024));
  CHECK(s.admit() == std::vector<size_t>{0});
  s.finished(0, false);
  CHECK(s.all_done());
}

TEST_CASE("the tracker returns to zero after many fractional acquisitions", "[sched]") {
  wp::sched::ResourceTracker tracker(capacity(2, 1024));
  Resources tenth = need(0.1, 1);
  for (int i = 0; i < 20; ++i)
    tracker.acquire(tenth);
  CHECK_FALSE(tracker.fits(tenth));
  for (int i = 0; i < 20; ++i)
    tracker.release(tenth);
  CHECK(tracker.in_use() == Resources{});
}

TEST_CASE("extreme priorities order without overflow", "[sched]") {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  Scheduler s({job("lowest", need(1), kMin), job("highest", need(1), kMax), job("zero", need(1))},
              capacity(1, 1024));
  CHECK(s.admit_next() == std::optional<size_t>{1});
  s.finished(1, true);
  CHECK(s.admit_next() == std::optional<size_t>{2});
  s.finished(2, true);
  CHECK(s.admit_next() == std::optional<size_t>{0});
}

TEST_CASE("a stop between two admissions keeps the second job from starting", "[sched]") {
  Scheduler s({job("a", need(1)), job("b", need(1))}, capacity(2, 1024));
  CHECK(s.admit_next() == std::optional<size_t>{0});
  s.stop("stopped", false);
  CHECK_FALSE(s.admit_next().has_value());
  CHECK(s.state(1) == JobState::Skipped);
}
