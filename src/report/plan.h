// `wp plan`: the schedule a run would get, for people (a summary,
// utilisation strips and a Gantt chart) and for programs (JSON).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "report/json_writer.h"
#include "resources/quantity.h"
#include "sched/policy.h"
#include "sched/scheduler.h"
#include "sched/simulate.h"

namespace wp::report {

// Where the run time a plan assumes for a job comes from.
enum class DurationSource {
  Predicted,  // the point estimate of its wall time, from history
  Timeout,    // its declared timeout: wp ends it by then
  Default,    // neither: --default-duration
};
std::string_view to_string(DurationSource source);  // "predicted", "timeout", "default"

// The jobs as the scheduler sees them and what each is assumed to take: the
// same for every strategy simulated.
struct PlanJobs {
  std::string manifest;  // as the user gave it
  Resources capacity;
  std::vector<sched::JobDemand> demands;  // what `wp run` would give its scheduler
  std::vector<double> durations;          // seconds each job is assumed to run
  std::vector<DurationSource> sources;
  // Each job's timeout and retries, and the run's --retry-backoff and
  // --keep-going: what a run does with a job that runs out of time.
  sched::RunModel rules;
  double default_duration = 60;
  sched::LowerBound bound;  // of these durations
};

// The columns the chart and the utilisation strips may take: fewer leave
// no room for a bar between a name and its end time.
constexpr size_t kMinPlanWidth = 20;
constexpr size_t kMaxPlanWidth = 10000;

struct PlanView {
  bool gantt = false;  // draw the chart
  size_t width = 80;   // of the chart and the utilisation strips, in columns
};

// "1.50s", "2m05s": a time of the plan, "0s" for none.
std::string seconds_text(double seconds);

// "2 of 5 jobs have no prediction or timeout: 1m assumed"; empty when none.
std::string default_note(const PlanJobs& jobs);

// One strategy's plan: makespan against the lower bound, utilisation over
// time, decision times, jobs that never start, and the chart if asked.
std::string plan_text(const PlanJobs& jobs, const sched::Simulation& simulation,
                      const PlanView& view);
// One row per job in start order (at most 60): its name, a bar on a common
// time axis, drawn with the mark of where its run time comes from, and its
// end time; then the axis and a legend of the marks. No line is wider than
// `width` terminal columns (at least kMinPlanWidth), whatever the names.
std::string gantt_chart(const PlanJobs& jobs, const sched::Simulation& simulation, size_t width);

// The simulation of every strategy side by side, `best` marked, then the
// chart of the best if asked.
std::string comparison_text(const PlanJobs& jobs, const std::vector<sched::Simulation>& simulations,
                            size_t best, const PlanView& view);
// The index of the simulation that starts the most jobs and ends soonest;
// on a tie, the default strategy's, else the first.
size_t best_of(const std::vector<sched::Simulation>& simulations);

// The document of `wp plan --json`.
std::string plan_json(const PlanJobs& jobs, const sched::Simulation& simulation);
// `wp plan --strategy all --json`: {"strategies": [plan...], "best": name}.
std::string comparison_json(const PlanJobs& jobs, const std::vector<sched::Simulation>& simulations,
                            size_t best);
// The same, written to `json` (which may stream them: the plan of 100,000
// jobs is 27 MB).
void write_plan_json(JsonWriter& json, const PlanJobs& jobs, const sched::Simulation& simulation);
void write_comparison_json(JsonWriter& json, const PlanJobs& jobs,
                           const std::vector<sched::Simulation>& simulations, size_t best);

}  // namespace wp::report
