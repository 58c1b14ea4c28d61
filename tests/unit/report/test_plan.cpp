// The text of `wp plan` from hand-made simulations: the chart's rows and
// axis, the note on assumed durations, and which strategy is best.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "report/plan.h"

using wp::report::DurationSource;
using wp::report::PlanJobs;
using wp::sched::Simulation;
using wp::sched::Slot;

namespace {

PlanJobs jobs_of(const std::vector<std::string>& names) {
  PlanJobs jobs;
  jobs.manifest = "jobs.toml";
  jobs.capacity.cpu = wp::Cores::from_double(2);
  jobs.capacity.memory = 1ull << 30;
  for (const std::string& name : names) {
    wp::sched::JobDemand demand;
    demand.name = name;
    demand.demand.cpu = wp::Cores::from_double(1);
    jobs.demands.push_back(demand);
    jobs.durations.push_back(10);
    jobs.sources.push_back(DurationSource::Timeout);
  }
  return jobs;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t from = 0;
  for (size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', from)) {
    lines.push_back(text.substr(from, at - from));
    from = at + 1;
  }
  return lines;
}

Simulation simulation_of(std::vector<Slot> slots, double makespan) {
  Simulation simulation;
  simulation.slots = std::move(slots);
  simulation.makespan = makespan;
  for (const Slot& slot : simulation.slots) {
    if (slot.start < 0) ++simulation.never_started;
  }
  return simulation;
}

}  // namespace

TEST_CASE("plan chart: a row per job in start order, bars scaled to the width", "[report]") {
  PlanJobs jobs = jobs_of({"late", "early", "never-fits"});
  Simulation simulation = simulation_of({{10, 20}, {0, 10}, {-1, -1}}, 20);
  std::vector<std::string> lines = lines_of(wp::report::gantt_chart(jobs, simulation, 60));
  REQUIRE(lines.size() == 5);  // three rows, the axis and its labels
  CHECK(lines[0].rfind("early", 0) == 0);
  CHECK(lines[1].rfind("late", 0) == 0);
  CHECK(lines[2].rfind("never-fits", 0) == 0);
  CHECK(lines[2].find("(never starts)") != std::string::npos);
  // Half the axis each: the bars meet in the middle and do not overlap.
  size_t early_end = lines[0].rfind('#');
  size_t late_start = lines[1].find('#');
  CHECK(late_start == early_end + 1);
  for (const std::string& line : lines)
    CHECK(line.size() <= 60);
  CHECK(lines[3].find("+--") != std::string::npos);
  CHECK(lines[4].find("0s ") != std::string::npos);
  CHECK(lines[4].find("20.0s") != std::string::npos);
}

TEST_CASE("plan chart: at most 60 rows", "[report]") {
  std::vector<std::string> names;
  std::vector<Slot> slots;
  for (int i = 0; i < 75; ++i) {
    names.push_back("job-" + std::to_string(i));
    slots.push_back({static_cast<double>(i), static_cast<double>(i + 1)});
  }
  std::string chart = wp::report::gantt_chart(jobs_of(names), simulation_of(slots, 75), 80);
  CHECK(chart.find("job-59 ") != std::string::npos);
  CHECK(chart.find("job-60 ") == std::string::npos);
  CHECK(chart.find("... 15 more jobs") != std::string::npos);
}

TEST_CASE("plan: the note on jobs with an assumed duration", "[report]") {
  PlanJobs jobs = jobs_of({"a", "b", "c"});
  CHECK(wp::report::default_note(jobs).empty());
  jobs.sources[1] = DurationSource::Default;
  jobs.default_duration = 90;
  CHECK(wp::report::default_note(jobs) ==
        "1 of 3 jobs has no prediction or timeout: 1m30s assumed");
}

TEST_CASE("plan: the best strategy starts the most jobs, then ends soonest", "[report]") {
  auto with = [](wp::sched::Strategy strategy, double makespan, size_t never) {
    Simulation s;
    s.policy.strategy = strategy;
    s.makespan = makespan;
    s.never_started = never;
    return s;
  };
  using wp::sched::Strategy;
  CHECK(wp::report::best_of({with(Strategy::FirstFit, 30, 0), with(Strategy::BestFit, 20, 0)}) ==
        1);
  CHECK(wp::report::best_of({with(Strategy::FirstFit, 30, 0), with(Strategy::BestFit, 20, 1)}) ==
        0);
  // A tie goes to the default strategy.
  Strategy fallback =
      wp::sched::Policy{}.strategy == Strategy::FirstFit ? Strategy::BestFit : Strategy::FirstFit;
  CHECK(wp::report::best_of({with(fallback, 20, 0), with(wp::sched::Policy{}.strategy, 20, 0)}) ==
        1);
}
