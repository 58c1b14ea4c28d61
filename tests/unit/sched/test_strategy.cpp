// Strategies, aging, critical paths and backfilling, on small fixed
// scenarios through the simulator (the Scheduler driven by a clock that
// jumps from one job's end to the next): the answers are worked out by hand
// in the comments.
#include <catch2/catch.hpp>

#include <chrono>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "sched/scheduler.h"
#include "sched/simulate.h"

using wp::Cores;
using wp::Resources;
using wp::sched::JobDemand;
using wp::sched::Policy;
using wp::sched::Scheduler;
using wp::sched::Simulation;
using wp::sched::Strategy;

namespace {

constexpr uint64_t kMiB = 1ull << 20;

Resources need(double cpu, uint64_t mib = 100) {
  Resources r;
  r.cpu = Cores::from_double(cpu);
  r.memory = mib * kMiB;
  return r;
}

Resources capacity(double cpu, uint64_t mib) {
  Resources r = need(cpu, mib);
  r.iops = Resources::kUnlimited;
  return r;
}

JobDemand job(std::string name, Resources demand, std::optional<double> duration,
              int64_t priority = 0, std::vector<size_t> after = {}) {
  return JobDemand{std::move(name), demand, priority, std::move(after), duration, std::nullopt};
}

Policy policy(Strategy strategy, double aging = 300, double cpu_overcommit = 1) {
  Policy p;
  p.strategy = strategy;
  p.aging = aging;
  p.cpu_overcommit = cpu_overcommit;
  return p;
}

// Simulates with every job taking what it is expected to (or `actual`).
Simulation plan(const std::vector<JobDemand>& jobs, const Resources& cap, const Policy& p,
                std::vector<double> actual = {}) {
  if (actual.empty()) {
    for (const JobDemand& j : jobs)
      actual.push_back(j.duration.value_or(1));
  }
  return wp::sched::simulate(jobs, actual, cap, p);
}

// Each job's timeout and retries, the default backoff (1 s), not keeping going.
wp::sched::RunModel limits(std::vector<double> timeouts, std::vector<int> retries = {}) {
  wp::sched::RunModel rules;
  rules.timeouts = std::move(timeouts);
  rules.retries = std::move(retries);
  return rules;
}

// 2 cores, first-fit, no overcommit; every job taking what it is expected
// to, and running out of time by `rules`.
Simulation plan_with(const std::vector<JobDemand>& jobs, const wp::sched::RunModel& rules) {
  std::vector<double> actual;
  for (const JobDemand& j : jobs)
    actual.push_back(j.duration.value_or(1));
  return wp::sched::simulate(jobs, actual, capacity(2, 4000), policy(Strategy::FirstFit), rules);
}

}  // namespace

TEST_CASE("each strategy takes its own pick among the jobs that fit", "[sched][strategy]") {
  // R (3.5 of 4 cores, priority 10) starts first and leaves 0.5 cores and
  // 3584 MiB free: normalised by capacity, free = (0.125, 0.875). Then, in
  // queue order, with (cpu, memory) shares of capacity:
  //   H (0.1, 0.3)    sum 0.40  alignment 0.1*0.125 + 0.3*0.875  = 0.275
  //   U (0.125, 0.55) sum 0.675 alignment 0.0156 + 0.481          = 0.497
  //   V (0.01, 0.6)   sum 0.61  alignment 0.00125 + 0.525         = 0.526
  //   W (0.0025, ~0)  sum ~0    alignment ~0
  // first-fit takes H (the head), best-fit U (least left over), worst-fit W
  // (most left over), alignment V.
  std::vector<JobDemand> jobs{
      job("R", need(3.5, 512), 10, 10), job("H", need(0.4, 1229), 10),
      job("U", need(0.5, 2253), 10),    job("V", need(0.04, 2458), 10),
      job("W", need(0.01, 1), 10),
  };
  auto second = [&](Strategy strategy) {
    Scheduler s(jobs, capacity(4, 4096), policy(strategy));
    REQUIRE(s.admit_next() == std::optional<size_t>(0));
    return s.admit_next();
  };
  CHECK(second(Strategy::FirstFit) == std::optional<size_t>(1));
  CHECK(second(Strategy::BestFit) == std::optional<size_t>(2));
  CHECK(second(Strategy::WorstFit) == std::optional<size_t>(4));
  CHECK(second(Strategy::Alignment) == std::optional<size_t>(3));
}

TEST_CASE("a packing strategy never starts a lower priority first", "[sched][strategy]") {
  // best-fit would rather take the 2-core job, but the 1-core one has the
  // higher priority and fits.
  std::vector<JobDemand> jobs{job("wide", need(2), 10), job("urgent", need(1), 10, 5)};
  for (Strategy strategy : wp::sched::kStrategies) {
    Scheduler s(jobs, capacity(2, 1024), policy(strategy));
    CHECK(s.admit_next() == std::optional<size_t>(1));
  }
}

TEST_CASE("the critical path goes first, so the pipeline's tail does not wait",
          "[sched][strategy]") {
  // Two cores. q1, q2 stand alone (5 s); p1 -> p2 -> p3 is a chain of 5 s
  // steps listed after them. In manifest order q1, q2 would take both cores
  // and the chain would end at 20 s; by critical path p1 (15 s to go) starts
  // at once and everything ends at 15 s, the length of the chain.
  std::vector<JobDemand> jobs{job("q1", need(1), 5), job("q2", need(1), 5), job("p1", need(1), 5),
                              job("p2", need(1), 5, 0, {2}), job("p3", need(1), 5, 0, {3})};
  for (Strategy strategy : wp::sched::kStrategies) {
    Simulation sim = plan(jobs, capacity(2, 1024), policy(strategy));
    CAPTURE(to_string(strategy));
    CHECK(sim.slots[2].start == 0);
    CHECK(sim.makespan == 15);
    CHECK(wp::sched::lower_bound(jobs, {5, 5, 5, 5, 5}, capacity(2, 1024)).path == 15);
  }
  Scheduler s(jobs, capacity(2, 1024));
  CHECK(s.critical_path(2) == 15);
  CHECK(s.critical_path(3) == 10);
  CHECK(s.critical_path(0) == 5);
}

TEST_CASE("critical paths closer than a hundredth of a second keep manifest order",
          "[sched][strategy]") {
  // Millisecond jobs whose predicted run times differ by noise start in the
  // order written; a difference of a hundredth of a second or more counts.
  std::vector<JobDemand> jobs{job("a", need(1), 0.001), job("b", need(1), 0.004),
                              job("c", need(1), 0.002), job("d", need(1), 0.5),
                              job("e", need(1), 0.52)};
  Scheduler s(jobs, capacity(1, 1024));
  std::vector<size_t> order;
  while (auto next = s.admit_next()) {
    order.push_back(*next);
    s.finished(*next, true);
  }
  CHECK(order == std::vector<size_t>{4, 3, 0, 1, 2});
  CHECK(s.critical_path(1) == 0.004);  // the path itself is kept as it is
}

TEST_CASE("unknown durations count as the median known one in critical paths", "[sched]") {
  std::vector<JobDemand> jobs{job("a", need(1), 2), job("b", need(1), 8), job("c", need(1), 4),
                              job("d", need(1), std::nullopt, 0, {0})};
  Scheduler s(jobs, capacity(1, 1024));
  CHECK(s.critical_path(0) == 2 + 4);  // d weighs the median of 2, 8, 4
  Scheduler none({job("x", need(1), std::nullopt), job("y", need(1), std::nullopt, 0, {0})},
                 capacity(1, 1024));
  CHECK(none.critical_path(0) == 2);  // one second a job: the chain's length
}

TEST_CASE("backfill never delays the job at the head of the queue", "[sched][strategy]") {
  // Two cores. a (1 core, 10 s, highest priority) starts at 0; b needs both
  // cores, so it is reserved the time a ends: 10. short (1 core, 4 s) ends
  // before that and backfills at 0; long (1 core, 20 s) would hold a core
  // past 10, so it waits until b is done.
  std::vector<JobDemand> jobs{job("a", need(1), 10, 2), job("b", need(2), 5, 1),
                              job("long", need(1), 20), job("short", need(1), 4)};
  for (Strategy strategy : wp::sched::kStrategies) {
    Simulation sim = plan(jobs, capacity(2, 1024), policy(strategy));
    CAPTURE(to_string(strategy));
    CHECK(sim.slots[1].start == 10);
    CHECK(sim.slots[3].start == 0);
    CHECK(sim.slots[2].start == 15);
  }
  Scheduler s(jobs, capacity(2, 1024));
  REQUIRE(s.admit_next() == std::optional<size_t>(0));
  auto held = s.reservation();
  REQUIRE(held);
  CHECK(held->job == 1);
  CHECK(held->start == 10);
}

TEST_CASE("a job may backfill past the reservation into what the head leaves free",
          "[sched][strategy]") {
  // Three cores. a (2 cores, 10 s) runs; b needs 2, reserved at 10, when 3
  // are free: one core is spare then, so long (1 core, 20 s) may start now.
  std::vector<JobDemand> jobs{job("a", need(2), 10, 2), job("b", need(2), 5, 1),
                              job("long", need(1), 20)};
  Simulation sim = plan(jobs, capacity(3, 1024), policy(Strategy::FirstFit));
  CHECK(sim.slots[2].start == 0);
  CHECK(sim.slots[1].start == 10);
}

TEST_CASE("a head job that has waited an aging interval stops backfill of unknown length",
          "[sched][strategy]") {
  // Two cores. a (1 core, priority 2) runs 100 s, its length unknown; b
  // needs both cores. Small jobs of unknown length would keep one core busy
  // forever. While b is patient (the first 10 s, aging 10) one backfills;
  // when it ends at 30 b has waited longer, so nothing more takes the core
  // b waits for: b starts when a ends, at 100.
  std::vector<JobDemand> jobs{job("a", need(1), std::nullopt, 2),
                              job("b", need(2), std::nullopt, 1)};
  std::vector<double> actual{100, 5};
  for (int i = 0; i < 20; ++i) {
    jobs.push_back(job("s" + std::to_string(i), need(1), std::nullopt));
    actual.push_back(30);
  }
  Simulation patient = plan(jobs, capacity(2, 1024), policy(Strategy::FirstFit, 10), actual);
  CHECK(patient.slots[2].start == 0);
  CHECK(patient.slots[1].start == 100);
  CHECK(patient.slots[3].start >= 105);
  // With aging off, b is overtaken by all 20: the starvation aging prevents.
  Simulation starved = plan(jobs, capacity(2, 1024), policy(Strategy::FirstFit, 0), actual);
  for (size_t i = 2; i < jobs.size(); ++i)
    CHECK(starved.slots[i].start < starved.slots[1].start);
  CHECK(starved.slots[1].start == 360);  // 4 small ones on one core, 16 on two
}

TEST_CASE("patience at the head counts from when the job last became the head",
          "[sched][strategy]") {
  // Two cores, aging 3. w (1 core, 1 s) and r (half a core, 12 s) start at
  // 0; x (both cores) is the head from 0 until w ends at 1 and z (1.6
  // cores, priority 20, after w) takes the head; z starts when r ends at
  // 12, so x is the head again, waiting for z's end at 17. y (0.4 cores,
  // 2 s, after r) ends by 14: x has been the head for no time at all, so y
  // backfills at 12 rather than waiting for x as if x had waited since 0.
  std::vector<JobDemand> jobs{job("w", need(1), 1, 40), job("r", need(0.5), 12, 30),
                              job("x", need(2), 1, 10), job("z", need(1.6), 5, 20, {0}),
                              job("y", need(0.4), 2, 0, {1})};
  for (Strategy strategy : wp::sched::kStrategies) {
    Simulation sim = plan(jobs, capacity(2, 1024), policy(strategy, 3));
    CAPTURE(to_string(strategy));
    CHECK(sim.slots[3].start == 12);
    CHECK(sim.slots[4].start == 12);
    CHECK(sim.slots[2].start == 17);
  }
}

TEST_CASE("aging lifts a low priority job above a stream of higher ones within its bound",
          "[sched][strategy]") {
  // One core. low (priority 0) is ready at 0; a chain of 20 priority-1 jobs
  // of 10 s keeps a newer priority-1 job ready whenever a core frees. With
  // aging 25 s, low's band ranks 0 x 25 - 0 = 0; the priority-1 band, which
  // gets its job at 0, 10, 20, 30, ranks 25, 15, 5, -5: low starts at 30.
  // The bound: (highest - own) x aging + the longest running job = 35 s.
  std::vector<JobDemand> jobs{job("low", need(1), 10, 0)};
  for (size_t i = 0; i < 20; ++i) {
    std::vector<size_t> after;
    if (i > 0) after.push_back(i);  // the previous chain job
    jobs.push_back(job("high" + std::to_string(i), need(1), 10, 1, after));
  }
  Simulation aged = plan(jobs, capacity(1, 1024), policy(Strategy::FirstFit, 25));
  CHECK(aged.slots[0].start == 30);
  CHECK(aged.slots[0].start <= (1 - 0) * 25 + 10);
  Simulation unaged = plan(jobs, capacity(1, 1024), policy(Strategy::FirstFit, 0));
  CHECK(unaged.slots[0].start == 200);
}

TEST_CASE("a band that started nothing for its aging goes first, the sooner the shorter the aging",
          "[sched][strategy]") {
  // Two cores. big (both cores, priority 0, 5 s) and ten chains of ten
  // priority-5 jobs (1 core, 1 s). The priority-5 band starts a job every
  // half second on average, so it ranks 5 x aging - (about now); big's
  // ranks 0 - 0. From 5 x aging on, the priority-5 band goes after big's as
  // soon as it has started one more job (when a core frees, within a
  // second); big is then the head and starts once the two running jobs end,
  // a second later at most.
  std::vector<JobDemand> jobs{job("big", need(2), 5, 0)};
  for (size_t chain = 0; chain < 10; ++chain) {
    for (size_t i = 0; i < 10; ++i) {
      std::vector<size_t> after;
      if (i > 0) after.push_back(jobs.size() - 1);
      jobs.push_back(
          job("c" + std::to_string(chain) + "-" + std::to_string(i), need(1), 1, 5, after));
    }
  }
  double before = 0;
  for (double aging : {0.5, 1.0, 2.0, 4.0}) {
    CAPTURE(aging);
    for (Strategy strategy : wp::sched::kStrategies) {
      CAPTURE(to_string(strategy));
      Simulation sim = plan(jobs, capacity(2, 1024), policy(strategy, aging));
      CHECK(sim.slots[0].start >= 5 * aging);
      CHECK(sim.slots[0].start <= 5 * aging + 2);
      if (strategy == Strategy::FirstFit) {
        CHECK(sim.slots[0].start > before);
        before = sim.slots[0].start;
      }
    }
  }
  // Without aging, big waits for all hundred.
  Simulation unaged = plan(jobs, capacity(2, 1024), policy(Strategy::FirstFit, 0));
  CHECK(unaged.slots[0].start == 50);
}

TEST_CASE("a low priority head that waited does not hold back higher ones that come later",
          "[sched][strategy]") {
  // Two cores, aging 10 s. long and h1 (priority 5, 1 core, 100 s and 20 s)
  // start at 0; x (priority 0, both cores) is the head from 0. At 10 it has
  // waited an interval there, so nothing may backfill into what it needs,
  // but its band has not aged to the top (that takes 5 x 10 s): it does not
  // claim. h2 (priority 5, after h1) is ready at 20, goes before x, fits and
  // starts; x starts when the cores are free, at 100. Had x claimed, h2
  // would have waited for long's end, and x for h2's.
  std::vector<JobDemand> jobs{job("long", need(1), 100, 5), job("h1", need(1), 20, 5),
                              job("h2", need(1), 20, 5, {1}), job("x", need(2), 10, 0)};
  for (Strategy strategy : wp::sched::kStrategies) {
    CAPTURE(to_string(strategy));
    Simulation sim = plan(jobs, capacity(2, 1024), policy(strategy, 10));
    CHECK(sim.slots[2].start == 20);
    CHECK(sim.slots[3].start == 100);
  }
}

TEST_CASE("a head that waited an aging interval starts when it fits, whatever the strategy",
          "[sched][strategy]") {
  // Four cores, aging 300 s. urgent (priority 10, 1 core, 60 s) starts at 0;
  // big (4 cores, 900 s, the longest path) heads sixty 1-core jobs of 300 s.
  // At 60 big fits, but a packing strategy may take a small job first (it
  // leaves more free), and three more backfill by big's reservation at 360.
  // By then big has waited an interval at the head: it fits and starts,
  // where the strategy's pick would take its room again and leave it
  // waiting, backfill shut, while one small job at a time ran on four
  // cores (7,560 s with worst-fit).
  std::vector<JobDemand> jobs{job("urgent", need(1), 60, 10), job("big", need(4), 900)};
  for (int i = 0; i < 60; ++i)
    jobs.push_back(job("s" + std::to_string(i), need(1), 300));
  for (Strategy strategy : wp::sched::kStrategies) {
    CAPTURE(to_string(strategy));
    Simulation sim = plan(jobs, capacity(4, 4096), policy(strategy, 300));
    CHECK(sim.slots[1].start <= 360);
    CHECK(sim.makespan == 5460);
  }
}

TEST_CASE("a claimant lets jobs run whose limits end them before the running jobs' limits",
          "[sched][strategy]") {
  // Two cores, aging 10 s; every job's limit (its timeout) is its length.
  // long (priority 3, 1 core, 100 s) and twenty small jobs (priority 3,
  // 1 core, 10 s) run; big (priority 1, both cores, 10 s) gets the head when
  // the priority-3 band falls behind its own, and claims an interval later.
  // long's limit frees big's second core at 100 at the latest: a small job
  // whose limit ends it by then cannot delay big, and runs on the other
  // core meanwhile. big starts at 100 all the same. Without limits, the
  // claim shut that core until 100.
  auto with_limits = [](std::vector<JobDemand> jobs) {
    for (JobDemand& j : jobs)
      j.limit = j.duration;
    return jobs;
  };
  std::vector<JobDemand> jobs{job("long", need(1), 100, 3), job("big", need(2), 10, 1)};
  for (int i = 0; i < 20; ++i)
    jobs.push_back(job("s" + std::to_string(i), need(1), 10, 3));
  Simulation limited = plan(with_limits(jobs), capacity(2, 1024), policy(Strategy::FirstFit, 10));
  Simulation unlimited = plan(jobs, capacity(2, 1024), policy(Strategy::FirstFit, 10));
  CHECK(limited.slots[1].start == 100);
  CHECK(unlimited.slots[1].start == 100);
  CHECK(limited.makespan == 160);  // (100 + 20 x 10 + 2 x 10) core-seconds on 2 cores
  CHECK(unlimited.makespan > limited.makespan);
}

TEST_CASE("a head that waited lets in no job a patient head would keep out", "[sched][strategy]") {
  // Two cores, aging 10 s. r (priority 5, 1 core) runs 100 s, its timeout
  // 1000 s; h (priority 5, both cores, 10 s) waits for it from 0; t (1 core,
  // 20 s) backfills at 0, as it ends by h's reservation at 100. At 20 h has
  // waited an interval, and claims. f (1 core) is expected to run 500 s,
  // its timeout 900 s: its timeout ends it before r's, but it is expected
  // to run far past h's reservation, which a patient head would never let
  // it do. h starts at 100, f after it. (First-fit: best-fit would start h
  // at 0, as it fills the machine.)
  std::vector<JobDemand> jobs{job("r", need(1), 100, 5), job("h", need(2), 10, 5),
                              job("t", need(1), 20), job("f", need(1), 500)};
  jobs[0].limit = 1000;
  jobs[1].limit = 20;
  jobs[2].limit = 20;
  jobs[3].limit = 900;
  Simulation sim = plan(jobs, capacity(2, 1024), policy(Strategy::FirstFit, 10));
  CHECK(sim.slots[2].start == 0);
  CHECK(sim.slots[1].start == 100);
  CHECK(sim.slots[3].start == 110);
}

TEST_CASE("jobs of a band that backfill do not cost its first job the head", "[sched][strategy]") {
  // Two cores, aging 10 s. Twenty priority-1 jobs (1 core, 10 s); j
  // (priority 0, both cores, 15 s: the longest path of its band) and five
  // priority-0 siblings (1 core, 10 s). At 10 the priority-1 band starts one
  // more job and falls behind j's band, which has waited since 0: j is the
  // head, with a reservation at 20, and a sibling that ends by then
  // backfills. It is not j's band's first job: the band keeps its rank, j
  // the head, and j starts at 20. When any start of the band put it back, j
  // lost the head to the priority-1 band at every such backfill.
  std::vector<JobDemand> jobs;
  for (int i = 0; i < 20; ++i)
    jobs.push_back(job("p" + std::to_string(i), need(1), 10, 1));
  jobs.push_back(job("j", need(2), 15, 0));
  for (int i = 0; i < 5; ++i)
    jobs.push_back(job("s" + std::to_string(i), need(1), 10, 0));
  Simulation sim = plan(jobs, capacity(2, 1024), policy(Strategy::FirstFit, 10));
  CHECK(sim.slots[20].start == 20);
  CHECK(sim.slots[20].start <= (1 - 0) * 10 + 10);  // (P - p) x aging + a running job
}

TEST_CASE("aging never reorders jobs of one priority: the critical path goes first",
          "[sched][strategy]") {
  // Two cores, aging 60 s. Twenty independent jobs and a chain of twelve,
  // all of priority 0 and 60 s each. The chain is the critical path (720 s):
  // each of its jobs but the last (whose path, 60 s, is the independent
  // ones') goes first as soon as it is ready, however long the independent
  // ones have waited, and the run takes the 32 x 60 / 2 = 960 s the cores
  // need. When waiting raised each job one step, the chain's jobs, new,
  // waited behind the older ones for an aging interval each: 1,080 s.
  std::vector<JobDemand> jobs;
  for (size_t i = 0; i < 20; ++i)
    jobs.push_back(job("pool" + std::to_string(i), need(1), 60));
  for (size_t i = 0; i < 12; ++i) {
    std::vector<size_t> after;
    if (i > 0) after.push_back(jobs.size() - 1);
    jobs.push_back(job("chain" + std::to_string(i), need(1), 60, 0, after));
  }
  for (Strategy strategy : wp::sched::kStrategies) {
    CAPTURE(to_string(strategy));
    Simulation sim = plan(jobs, capacity(2, 1024), policy(strategy, 60));
    for (size_t i = 21; i < 31; ++i)
      CHECK(sim.slots[i].start == sim.slots[i - 1].end);
    CHECK(sim.makespan == 960);
  }
}

TEST_CASE("jobs that go before a claimant later never take what it waits for",
          "[sched][strategy]") {
  // Two cores, aging 0.25 s, no priorities. Two chains of ten 1-core jobs
  // of unknown length (1 s each; chain s1's first 0.625 s) and big, which
  // needs both cores (0.5 s). The chains' heads start at 0 (their paths are
  // longer); big is the head from 0. When s1-0 ends at 0.625, big has been
  // the head for longer than an aging interval, and its band, the only one,
  // is at the top: it claims. s1-1, which goes
  // before it in the queue on its longer path, may not take the core big
  // waits for. s0-0 ends at 1: big starts. Without the claim, the two
  // chains took turns until both ended. So the bound holds: one aging
  // interval at the head, and the 1 s the running jobs then take. A
  // packing strategy may start big at once (best-fit: it fills the
  // machine).
  std::vector<JobDemand> jobs;
  std::vector<double> actual;
  for (size_t chain = 0; chain < 2; ++chain) {
    for (size_t i = 0; i < 10; ++i) {
      std::vector<size_t> after;
      if (i > 0) after.push_back(jobs.size() - 1);
      jobs.push_back(job("s" + std::to_string(chain) + "-" + std::to_string(i), need(1),
                         std::nullopt, 0, after));
      actual.push_back(chain == 1 && i == 0 ? 0.625 : 1);
    }
  }
  jobs.push_back(job("big", need(2), std::nullopt));
  actual.push_back(0.5);
  for (Strategy strategy : wp::sched::kStrategies) {
    CAPTURE(to_string(strategy));
    Simulation sim = plan(jobs, capacity(2, 1024), policy(strategy, 0.25), actual);
    CHECK(sim.slots[20].start <= 0.25 + 1);
    if (strategy == Strategy::FirstFit || strategy == Strategy::WorstFit) {
      CHECK(sim.slots[20].start == 1);
      CHECK(sim.slots[1].start == 1.5);  // s0-1, ready at 1, waits for big
    }
  }
}

TEST_CASE("a claim is made when it is due, not at the next decision", "[sched][strategy]") {
  // Eight cores, aging 1 s. z, x and d start at 0; c (6 cores, the
  // shortest path) is the head from 0. d ends at 1.2 and h (2 cores, on a
  // long path) becomes ready and goes before c; nothing is decided until x
  // ends at 3. c had held the head for an aging interval when the clock was
  // told 1.2, before h came: its claim stands, and c starts at 3. Made at
  // the decision only, the claim went to h, the head for 1.8 s by then, and
  // c waited for z's 1000 s.
  std::vector<JobDemand> jobs{job("z", need(1), 1000), job("x", need(6), 3), job("d", need(1), 1.2),
                              job("c", need(6), 0.5), job("h", need(2), 10, 0, {2})};
  Scheduler s(jobs, capacity(8, 4096), policy(Strategy::FirstFit, 1));
  CHECK(s.admit() == std::vector<size_t>{0, 2, 1});
  s.set_now(1.2);
  s.finished(2, true);
  s.set_now(3);
  s.finished(1, true);
  CHECK(s.next_in_line() == std::optional<size_t>(3));
  CHECK(s.head() == std::optional<size_t>(4));
  CHECK(s.admit() == std::vector<size_t>{3});
}

TEST_CASE("a reservation on room other processes hold is unknown", "[sched][strategy]") {
  // Two cores; another wp holds one in the ledger, so the room this run may
  // use is one core, though its own capacity is free. h (1.5 cores,
  // priority 1) fits the run but not the room: it waits for the other
  // process, whose end is unknown. While h is patient (aging 10 s), c
  // (1 core) backfills as beside any unknown reservation; afterwards d may
  // not take what h waits for.
  std::vector<JobDemand> jobs{job("h", need(1.5), 5, 1), job("c", need(1), 3),
                              job("d", need(0.5), 1)};
  Scheduler s(jobs, capacity(2, 1024), policy(Strategy::FirstFit, 10));
  Resources room = capacity(1, 1024);
  CHECK(s.admit_next(&room) == std::optional<size_t>(1));
  s.set_now(20);
  room = capacity(0.5, 1024);  // c holds the rest
  CHECK(s.admit_next(&room) == std::nullopt);
  CHECK(s.state(2) == wp::sched::JobState::Ready);
}

TEST_CASE("simulated schedules keep every invariant on random workloads", "[sched][strategy]") {
  std::mt19937 random(7);
  std::uniform_real_distribution<double> cpu(0.1, 2.0), seconds(0.5, 30);
  std::uniform_int_distribution<uint64_t> mib(10, 3000);
  std::uniform_int_distribution<int> priority(0, 2), coin(0, 3);
  for (int round = 0; round < 20; ++round) {
    std::vector<JobDemand> jobs;
    std::vector<double> actual;
    for (size_t i = 0; i < 60; ++i) {
      std::vector<size_t> after;
      if (i > 3 && coin(random) == 0) after.push_back(i - 1 - static_cast<size_t>(coin(random)));
      std::optional<double> expected;
      if (coin(random) != 0) expected = seconds(random);
      actual.push_back(seconds(random));
      jobs.push_back(job("j" + std::to_string(i), need(cpu(random), mib(random)), expected,
                         priority(random), after));
    }
    Resources cap = capacity(4, 4096);
    for (double overcommit : {1.0, 1.25, 2.0}) {
      for (Strategy strategy : wp::sched::kStrategies) {
        Policy p = policy(strategy, 20, overcommit);
        Simulation sim = plan(jobs, cap, p, actual);
        CAPTURE(round, overcommit, to_string(strategy));
        CHECK(sim.never_started == 0);
        // Memory never beyond the capacity; CPU never beyond the overcommit.
        Resources packed = wp::sched::packing_capacity(cap, p);
        CHECK(packed.memory == cap.memory);
        for (const auto& step : sim.usage)
          CHECK(step.in_use.fits_in(packed));
        for (size_t i = 0; i < jobs.size(); ++i) {
          // Sharing overcommitted cores only ever slows a job down.
          if (overcommit == 1.0) {
            CHECK(sim.slots[i].end == Approx(sim.slots[i].start + actual[i]));
          } else {
            CHECK(sim.slots[i].end >= sim.slots[i].start + actual[i] - 1e-9);
          }
          for (size_t dep : jobs[i].after)
            CHECK(sim.slots[i].start >= sim.slots[dep].end);
        }
        // The cores deliver no more than their CPU-seconds, overcommitted or not.
        CHECK(sim.makespan >= wp::sched::lower_bound(jobs, actual, cap).value() - 1e-9);
        // Nor when jobs use less CPU than they declare (as history says of
        // most), on more cores than admission counts.
        wp::sched::RunModel model;
        for (const JobDemand& j : jobs)
          model.cpu_use.push_back(j.demand.cpu.as_double() * (coin(random) + 1) / 4);
        model.cores = 6;
        Simulation used = wp::sched::simulate(jobs, actual, cap, p, model);
        CHECK(used.never_started == 0);
        CHECK(used.makespan >=
              wp::sched::lower_bound(jobs, actual, cap, overcommit, model).value() - 1e-9);
      }
    }
  }
}

TEST_CASE("CPU overcommit: a mostly idle job starts beside jobs that fill the cores",
          "[sched][strategy]") {
  // 2 cores, 4000 MiB. a and b fill the cores for 10 s; idle (0.2 core,
  // 3000 MiB) waits for one of them without overcommit; big (2000 MiB) can
  // never start beside idle, whatever the overcommit.
  std::vector<JobDemand> jobs{job("a", need(1, 100), 10), job("b", need(1, 100), 10),
                              job("idle", need(0.2, 3000), 10), job("big", need(0.1, 2000), 10)};
  Simulation strict = plan(jobs, capacity(2, 4000), policy(Strategy::FirstFit, 300, 1));
  CHECK(strict.slots[2].start == 10);
  CHECK(strict.makespan == Approx(30));
  Simulation shared = plan(jobs, capacity(2, 4000), policy(Strategy::FirstFit, 300, 1.25));
  CHECK(shared.slots[0].start == 0);
  CHECK(shared.slots[1].start == 0);
  CHECK(shared.slots[2].start == 0);
  // 2.2 cores declared on 2: each runs at 2 / 2.2 of full speed, so 11 s.
  CHECK(shared.slots[0].end == Approx(11));
  CHECK(shared.slots[2].end == Approx(11));
  // Memory is never overcommitted: big waits for idle to give it back.
  CHECK(shared.slots[3].start == Approx(11));
  CHECK(shared.makespan == Approx(21));
  CHECK(shared.makespan < strict.makespan);
}

TEST_CASE("a job slowed by overcommit past its timeout ends at the timeout", "[sched][strategy]") {
  // As above, 2.2 cores declared on 2 slow every job to 2 / 2.2 of full
  // speed. a's timeout is 10.5 s: a run stops it there, before its 11 s.
  // The others end at 10.5 + 0.5 * 1.1: after a has gone, 1.2 cores run at
  // full speed for what is left of their 10 s of work.
  std::vector<JobDemand> jobs{job("a", need(1, 100), 10), job("b", need(1, 100), 10),
                              job("idle", need(0.2, 100), 10)};
  double none = std::numeric_limits<double>::infinity();
  Simulation sim =
      wp::sched::simulate(jobs, {10, 10, 10}, capacity(2, 4000),
                          policy(Strategy::FirstFit, 300, 1.25), limits({10.5, none, none}));
  CHECK(sim.slots[0].end == Approx(10.5));
  CHECK(sim.slots[0].timed_out);
  CHECK_FALSE(sim.slots[0].cut_short);
  CHECK_FALSE(sim.slots[1].timed_out);
  CHECK(sim.timed_out == 1);
  double left = 10 - 10.5 * 2 / 2.2;  // work still to do when a stops
  CHECK(sim.slots[1].end == Approx(10.5 + left));
  CHECK(sim.slots[2].end == Approx(10.5 + left));
  CHECK(sim.makespan == Approx(10.5 + left));
  // Without overcommit nothing is slowed: the timeout, at the job's own
  // length, changes nothing.
  Simulation strict = wp::sched::simulate(jobs, {10, 10, 10}, capacity(2, 4000),
                                          policy(Strategy::FirstFit, 300, 1), limits({10, 10, 10}));
  CHECK(strict.slots[0].end == 10);
  CHECK(strict.slots[2].start == 10);
  CHECK(strict.makespan == 20);
  CHECK(strict.timed_out == 0);
  // A duration that is the timeout (wp plan's "timeout" source) is a bound:
  // cut there by the slowdown, the job is not reported as timed out.
  Simulation bounded =
      wp::sched::simulate(jobs, {10.5, 10, 10}, capacity(2, 4000),
                          policy(Strategy::FirstFit, 300, 1.25), limits({10.5, none, none}));
  CHECK(bounded.slots[0].end == Approx(10.5));
  CHECK_FALSE(bounded.slots[0].timed_out);
  CHECK(bounded.timed_out == 0);
  // It is cut short: less done than the 10.5 s the lower bound counts.
  CHECK(bounded.slots[0].cut_short);
  CHECK(bounded.cut_short == 1);
}

TEST_CASE("jobs are slowed by the CPU they use, on the cores they run on", "[sched][strategy]") {
  // Overcommit 1.5 on 2 cores admits three one-core jobs of 10 s at once.
  // Using what they declare, 3 cores on 2, each runs at 2/3 speed: 15 s.
  std::vector<JobDemand> jobs{job("a", need(1), 10), job("b", need(1), 10), job("c", need(1), 10)};
  Policy shared = policy(Strategy::FirstFit, 300, 1.5);
  wp::sched::RunModel declared;
  Simulation slowed = wp::sched::simulate(jobs, {10, 10, 10}, capacity(2, 4000), shared, declared);
  CHECK(slowed.slots[2].start == 0);
  CHECK(slowed.makespan == Approx(15));
  // History says each keeps 0.01 cores busy (a `sleep`): nothing slows them.
  wp::sched::RunModel sleeping;
  sleeping.cpu_use = {0.01, 0.01, 0.01};
  Simulation idle = wp::sched::simulate(jobs, {10, 10, 10}, capacity(2, 4000), shared, sleeping);
  CHECK(idle.makespan == Approx(10));
  // Admission capped at 2 cores on a 4-core machine: they use all 4.
  wp::sched::RunModel wider;
  wider.cores = 4;
  Simulation roomy = wp::sched::simulate(jobs, {10, 10, 10}, capacity(2, 4000), shared, wider);
  CHECK(roomy.slots[2].start == 0);
  CHECK(roomy.makespan == Approx(10));
  // The CPU term of the bound: what they use over the cores they run on, or
  // what they declare over what admission lets them declare at once (2 x
  // 1.5), whichever is larger; no plan beats it.
  auto cpu_bound = [&](const wp::sched::RunModel& model) {
    return wp::sched::lower_bound(jobs, {10, 10, 10}, capacity(2, 4000), 1.5, model).cpu;
  };
  CHECK(cpu_bound(declared) == Approx(15));
  CHECK(cpu_bound(sleeping) == Approx(10));
  CHECK(cpu_bound(wider) == Approx(10));
  CHECK(wp::sched::lower_bound(jobs, {10, 10, 10}, capacity(2, 4000)).cpu == Approx(15));
  // The same slowdown that times a job out when it uses its cores does not
  // when it does not.
  declared.timeouts = sleeping.timeouts = {12, 12, 12};
  CHECK(wp::sched::simulate(jobs, {10, 10, 10}, capacity(2, 4000), shared, declared).failed == 3);
  CHECK(wp::sched::simulate(jobs, {10, 10, 10}, capacity(2, 4000), shared, sleeping).failed == 0);
}

TEST_CASE("a job never keeps more cores busy than there are", "[sched][strategy]") {
  // History measured 2.2 cores for a job that now runs alone on 2: it runs
  // its 10 s at full speed, and the bound's CPU term is those 10 s, not 11.
  std::vector<JobDemand> jobs{job("alone", need(2), 10)};
  wp::sched::RunModel measured;
  measured.cpu_use = {2.2};
  Simulation sim = wp::sched::simulate(jobs, {10}, capacity(2, 4000),
                                       policy(Strategy::FirstFit, 300, 1.25), measured);
  CHECK(sim.makespan == Approx(10));
  CHECK(wp::sched::lower_bound(jobs, {10}, capacity(2, 4000), 1.25, measured).cpu == Approx(10));
}

TEST_CASE("a timeout late in a long plan is no less a timeout", "[sched][strategy][retries]") {
  // long runs 1e9 s; then late needs 0.6 s with a timeout of 0.3 s, and
  // times out on each of its two attempts. Judged within 1e-9 of the clock
  // (a whole second by then), its overrun was taken for rounding and it
  // succeeded.
  std::vector<JobDemand> jobs{job("long", need(2), 1e9), job("late", need(1), 0.6, 0, {0})};
  double none = std::numeric_limits<double>::infinity();
  Simulation sim = plan_with(jobs, limits({none, 0.3}, {0, 1}));
  const wp::sched::Slot& late = sim.slots[1];
  CHECK(late.attempts == 2);
  CHECK(late.timed_out);
  CHECK(late.failed);
  CHECK(sim.failed == 1);
}

TEST_CASE("a timed-out job is retried after its backoff, alone and at full speed",
          "[sched][strategy][retries]") {
  // As above: a times out at 10.5 s, and b and idle end at 10.5 + left. With
  // one retry and a 1 s backoff, a is queued again at 11.5 s, runs its 10 s
  // alone and ends at 21.5 s; after-a waits for that success.
  std::vector<JobDemand> jobs{job("a", need(1, 100), 10), job("b", need(1, 100), 10),
                              job("idle", need(0.2, 100), 10),
                              job("after-a", need(1, 100), 1, 0, {0})};
  double none = std::numeric_limits<double>::infinity();
  wp::sched::RunModel rules = limits({10.5, none, none, none}, {1, 0, 0, 0});
  Simulation sim = wp::sched::simulate(jobs, {10, 10, 10, 1}, capacity(2, 4000),
                                       policy(Strategy::FirstFit, 300, 1.25), rules);
  const wp::sched::Slot& a = sim.slots[0];
  CHECK(a.attempts == 2);
  CHECK(a.timed_out);
  CHECK_FALSE(a.failed);
  CHECK(a.start == 0);
  CHECK(a.last_start == Approx(11.5));
  CHECK(a.end == Approx(21.5));
  REQUIRE(sim.retried.size() == 1);
  CHECK(sim.retried[0].job == 0);
  CHECK(sim.retried[0].start == 0);
  CHECK(sim.retried[0].end == Approx(10.5));
  CHECK(sim.slots[3].start == Approx(21.5));
  CHECK(sim.makespan == Approx(22.5));
  CHECK(sim.timed_out == 1);
  CHECK(sim.failed == 0);
  CHECK(sim.never_started == 0);

  // Without the retry, a fails at its timeout: after-a is skipped, and the
  // others, already running, finish.
  rules.retries = {};
  Simulation failed = wp::sched::simulate(jobs, {10, 10, 10, 1}, capacity(2, 4000),
                                          policy(Strategy::FirstFit, 300, 1.25), rules);
  CHECK(failed.slots[0].failed);
  CHECK(failed.slots[0].attempts == 1);
  CHECK(failed.slots[0].end == Approx(10.5));
  CHECK(failed.slots[3].start < 0);
  CHECK(failed.slots[3].skipped == "dependency 'a' failed");
  CHECK(failed.slots[1].end == Approx(10.5 + (10 - 10.5 * 2 / 2.2)));
  CHECK(failed.failed == 1);
  CHECK(failed.skipped == 1);
  CHECK(failed.never_started == 1);
  CHECK(failed.retried.empty());
}

TEST_CASE("a job that fails stops the plan unless it keeps going, as a run",
          "[sched][strategy][retries]") {
  // 2 cores, no overcommit. a (predicted 20 s, timeout 5 s) and b (10 s)
  // start at 0; c waits for a core; d needs a. a times out at 5 s with no
  // retry: d is skipped, and without keep_going so is c, while b finishes.
  std::vector<JobDemand> jobs{job("a", need(1), 20), job("b", need(1), 10), job("c", need(1), 1),
                              job("d", need(1), 1, 0, {0})};
  double none = std::numeric_limits<double>::infinity();
  wp::sched::RunModel rules = limits({5, none, none, none});
  Simulation stopped = plan_with(jobs, rules);
  CHECK(stopped.slots[0].failed);
  CHECK(stopped.slots[0].end == 5);
  CHECK(stopped.slots[1].end == 10);
  CHECK(stopped.slots[2].start < 0);
  CHECK(stopped.slots[2].skipped == Scheduler::failure_stop_reason("a"));
  CHECK(stopped.slots[2].skipped == "not started: job 'a' failed (use --keep-going to continue)");
  CHECK(stopped.slots[3].skipped == "dependency 'a' failed");
  CHECK(stopped.skipped == 2);
  CHECK(stopped.never_started == 2);
  CHECK(stopped.makespan == 10);

  // Keeping going, c takes a's core when a fails; d is still skipped.
  rules.keep_going = true;
  Simulation kept = plan_with(jobs, rules);
  CHECK(kept.slots[2].start == 5);
  CHECK(kept.slots[2].end == 6);
  CHECK(kept.slots[2].skipped.empty());
  CHECK(kept.slots[3].skipped == "dependency 'a' failed");
  CHECK(kept.skipped == 1);
  CHECK(kept.makespan == 10);
}

TEST_CASE("retries wait a backoff that doubles, and a job out of retries fails",
          "[sched][strategy][retries]") {
  CHECK(wp::sched::retry_delay(std::chrono::seconds(1), 1) == std::chrono::seconds(1));
  CHECK(wp::sched::retry_delay(std::chrono::seconds(1), 2) == std::chrono::seconds(2));
  CHECK(wp::sched::retry_delay(std::chrono::seconds(1), 3) == std::chrono::seconds(4));
  CHECK(wp::sched::retry_delay(std::chrono::seconds(40), 2) == std::chrono::minutes(1));
  CHECK(wp::sched::retry_delay(std::chrono::minutes(5), 1) == std::chrono::minutes(1));
  CHECK(wp::sched::retry_delay(std::chrono::seconds(0), 4) == std::chrono::seconds(0));

  // a always runs out of time (20 s of work, 5 s allowed) and has two
  // retries: 0-5, then after 1 s 6-11, then after 2 s 13-18, and it fails.
  std::vector<JobDemand> jobs{job("a", need(1), 20), job("b", need(1), 1, 0, {0})};
  wp::sched::RunModel rules = limits({5, std::numeric_limits<double>::infinity()}, {2, 0});
  Simulation sim = plan_with(jobs, rules);
  REQUIRE(sim.retried.size() == 2);
  CHECK(sim.retried[0].start == 0);
  CHECK(sim.retried[0].end == 5);
  CHECK(sim.retried[1].start == 6);
  CHECK(sim.retried[1].end == 11);
  CHECK(sim.slots[0].last_start == 13);
  CHECK(sim.slots[0].end == 18);
  CHECK(sim.slots[0].attempts == 3);
  CHECK(sim.slots[0].failed);
  CHECK(sim.slots[1].skipped == "dependency 'a' failed");
  CHECK(sim.makespan == 18);

  // No backoff: the retry starts the moment the attempt before it ends.
  rules.retry_backoff = std::chrono::milliseconds(0);
  Simulation at_once = plan_with(jobs, rules);
  REQUIRE(at_once.retried.size() == 2);
  CHECK(at_once.retried[1].start == 5);
  CHECK(at_once.slots[0].last_start == 10);
  CHECK(at_once.makespan == 15);
}

TEST_CASE("the longest chain is found whatever order the manifest lists it in", "[sched]") {
  // A chain of 2,000 jobs of 1 s each, written dependents first: job i
  // depends on job i + 1. Its path is 2000 s, as written the other way.
  constexpr size_t kChain = 2000;
  std::vector<JobDemand> backwards;
  std::vector<JobDemand> forwards;
  for (size_t i = 0; i < kChain; ++i) {
    std::vector<size_t> later;
    if (i + 1 < kChain) later.push_back(i + 1);
    backwards.push_back(job("b" + std::to_string(i), need(1), 1, 0, later));
    std::vector<size_t> earlier;
    if (i > 0) earlier.push_back(i - 1);
    forwards.push_back(job("f" + std::to_string(i), need(1), 1, 0, earlier));
  }
  std::vector<double> ones(kChain, 1);
  CHECK(wp::sched::lower_bound(backwards, ones, capacity(2, 1024)).path == kChain);
  CHECK(wp::sched::lower_bound(forwards, ones, capacity(2, 1024)).path == kChain);
  // A diamond: d after b and c, both after a; c is the longer way.
  std::vector<JobDemand> diamond{job("d", need(1), 1, 0, {1, 2}), job("b", need(1), 1, 0, {3}),
                                 job("c", need(1), 5, 0, {3}), job("a", need(1), 2)};
  CHECK(wp::sched::lower_bound(diamond, {1, 1, 5, 2}, capacity(4, 1024)).path == 8);
}

TEST_CASE("the lower bound is the largest of its terms", "[sched]") {
  // 2 cores, 1000 MiB. x: 2 cores for 10 s; y: 1 core, 800 MiB, 30 s.
  // cpu (20 + 30) / 2 = 25; memory (100*10 + 800*30) / 1000 = 25; longest 30.
  std::vector<JobDemand> jobs{job("x", need(2, 100), 10), job("y", need(1, 800), 30, 0, {0})};
  auto bound = wp::sched::lower_bound(jobs, {10, 30}, capacity(2, 1000));
  CHECK(bound.cpu == Approx(25));
  CHECK(bound.memory == Approx(25));
  CHECK(bound.longest == 30);
  CHECK(bound.path == 40);
  CHECK(bound.value() == 40);
}

TEST_CASE("utilisation averages what is in use over slices of the makespan", "[sched]") {
  // One job of 2 of 4 cores for 10 s, then one of 4 cores for 10 s.
  std::vector<JobDemand> jobs{job("a", need(2, 0), 10), job("b", need(4, 0), 10, 0, {0})};
  Simulation sim = plan(jobs, capacity(4, 1024), policy(Strategy::FirstFit));
  auto shares = wp::sched::utilisation(sim, capacity(4, 1024), 4);
  REQUIRE(shares.size() == 4);
  CHECK(shares[0][0] == Approx(0.5));
  CHECK(shares[1][0] == Approx(0.5));
  CHECK(shares[2][0] == Approx(1.0));
  CHECK(shares[3][0] == Approx(1.0));
  CHECK(shares[0][2] == 0);  // no IOPS figure
  CHECK(wp::sched::parse_strategy("best-fit") == Strategy::BestFit);
  CHECK_FALSE(wp::sched::parse_strategy("fastest"));
}

TEST_CASE("utilisation tells the cores kept busy from the CPU held", "[sched][plan]") {
  // Overcommit 1.5 admits three one-core jobs of 10 s on 2 cores at once.
  std::vector<JobDemand> jobs{job("a", need(1), 10), job("b", need(1), 10), job("c", need(1), 10)};
  Policy shared = policy(Strategy::FirstFit, 300, 1.5);
  auto busy_of = [&](const wp::sched::RunModel& model, size_t buckets) {
    Simulation sim = wp::sched::simulate(jobs, {10, 10, 10}, capacity(2, 4000), shared, model);
    std::vector<double> busy;
    for (const wp::sched::Shares& bucket :
         wp::sched::utilisation(sim, capacity(2, 4000), buckets)) {
      CHECK(bucket[wp::sched::kCpuShare] == Approx(1.0));  // 3 cores held of 2: full
      busy.push_back(bucket[wp::sched::kBusyShare]);
    }
    return busy;
  };
  // Using what they declare, 3 cores on 2: busy throughout, never above full.
  for (double share : busy_of({}, 5))
    CHECK(share == Approx(1.0));
  // History says a and b keep 0.25 cores busy and c 0.5: 1 core of 2.
  wp::sched::RunModel light;
  light.cpu_use = {0.25, 0.25, 0.5};
  for (double share : busy_of(light, 5))
    CHECK(share == Approx(0.5));
  // The same on a 4-core machine whose admission is capped at 2: 1 of 4.
  light.cores = 4;
  for (double share : busy_of(light, 3))
    CHECK(share == Approx(0.25));
}

TEST_CASE("utilisation never exceeds the whole of a resource, however it rounds", "[sched][plan]") {
  // 2 cores, three jobs of 0.8 core: 2.4 declared, within the default
  // overcommit, so all three run at 2 / 2.4 of full speed until 12 s. The
  // cores are full throughout, and a bucket summed from pieces of several
  // steps rounded to 1.0000000000000009 before it was clamped.
  std::vector<JobDemand> jobs{job("a", need(0.8), 10), job("b", need(0.8), 10),
                              job("c", need(0.8), 10)};
  Simulation sim = plan(jobs, capacity(2, 1024), policy(Strategy::FirstFit, 300, 1.25));
  REQUIRE(sim.makespan == Approx(12));
  for (size_t buckets : {7, 50, 200, 333}) {
    INFO(buckets << " buckets");
    for (const wp::sched::Shares& bucket :
         wp::sched::utilisation(sim, capacity(2, 1024), buckets)) {
      CHECK(bucket[0] <= 1.0);
      CHECK(bucket[0] == Approx(1.0));
      CHECK(bucket[1] >= 0.0);
    }
  }
}

TEST_CASE("backfill by a packing strategy keeps priorities too", "[sched][strategy]") {
  // Two cores. a runs (1 core, 10 s); b needs both and is reserved at 10.
  // Both small jobs end in time; best-fit would rather fill the core with
  // `wide`, but `urgent` has the higher priority.
  std::vector<JobDemand> jobs{job("a", need(1), 10, 5), job("b", need(2), 5, 4),
                              job("wide", need(1, 900), 4, 0), job("urgent", need(0.5), 4, 1)};
  for (Strategy strategy : wp::sched::kStrategies) {
    Scheduler s(jobs, capacity(2, 1024), policy(strategy));
    CAPTURE(to_string(strategy));
    REQUIRE(s.admit_next() == std::optional<size_t>(0));
    CHECK(s.admit_next() == std::optional<size_t>(3));
  }
}
