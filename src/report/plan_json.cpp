// `wp plan --json`: one document per strategy simulated.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <optional>
#include <span>

#include <fmt/format.h>

#include "report/json_writer.h"
#include "report/plan.h"
#include "report/summary.h"

namespace wp::report {
namespace {

// Buckets of the utilisation arrays: fine enough to draw from, small enough
// to read.
constexpr size_t kBuckets = 50;

// Six decimals: times to the microsecond, and shares and ratios exact to far
// less than that, where 10.799999999999999 only says how doubles add up.
double six_places(double value) {
  return std::round(value * 1e6) / 1e6;
}

std::optional<double> time_or_null(double seconds) {
  return seconds >= 0 ? std::optional<double>(six_places(seconds)) : std::nullopt;
}

void write_bound(JsonWriter& json, const sched::LowerBound& bound) {
  json.begin_object();
  json.key("cpu").value(six_places(bound.cpu));
  json.key("memory").value(six_places(bound.memory));
  json.key("iops").value(six_places(bound.iops));
  json.key("gpu").value(six_places(bound.gpu));
  json.key("longest").value(six_places(bound.longest));
  json.key("path").value(six_places(bound.path));
  json.key("value").value(six_places(bound.value()));
  json.end_object();
}

void write_decisions(JsonWriter& json, const sched::DecisionTimes& decisions) {
  json.begin_object();
  json.key("count").value(static_cast<uint64_t>(decisions.count));
  json.key("median_us").value(decisions.median_us);
  json.key("p99_us").value(decisions.p99_us);
  json.key("max_us").value(decisions.max_us);
  json.end_object();
}

void write_attempt(JsonWriter& json, double start, double end, bool timed_out) {
  json.begin_object();
  json.key("start").value(six_places(start));
  json.key("end").value(six_places(end));
  json.key("timed_out").value(timed_out);
  json.end_object();
}

// `earlier`: the job's retried attempts, in the order they ended.
void write_job(JsonWriter& json, const PlanJobs& jobs, const sched::Simulation& simulation,
               size_t i, std::span<const sched::RetriedAttempt> earlier) {
  const sched::Slot& slot = simulation.slots[i];
  bool started = slot.start >= 0;
  json.begin_object();
  json.key("name").value(jobs.demands[i].name);
  json.key("start").value(time_or_null(slot.start));
  json.key("end").value(started ? time_or_null(slot.end) : std::nullopt);
  json.key("attempts").begin_array();
  for (const sched::RetriedAttempt& attempt : earlier)
    write_attempt(json, attempt.start, attempt.end, true);
  if (started) write_attempt(json, slot.last_start, slot.end, slot.failed);
  json.end_array();
  json.key("duration").value(six_places(jobs.durations[i]));
  json.key("duration_source").value(to_string(jobs.sources[i]));
  json.key("timed_out").value(slot.timed_out);
  json.key("failed").value(slot.failed);
  json.key("skipped").text_or_null(slot.skipped);
  json.key("cut_short").value(slot.cut_short);
  json.key("demand");
  write_resources(json, jobs.demands[i].demand);
  json.key("priority").value(jobs.demands[i].priority);
  json.end_object();
}

void write_utilisation(JsonWriter& json, const PlanJobs& jobs,
                       const sched::Simulation& simulation) {
  std::vector<sched::Shares> shares = sched::utilisation(simulation, jobs.capacity, kBuckets);
  json.begin_object();
  json.key("buckets").value(static_cast<uint64_t>(kBuckets));
  // By sched::Share; cpu is the CPU held, cpu_used the cores kept busy.
  static constexpr std::array<std::string_view, std::tuple_size_v<sched::Shares>> kNames{
      "cpu", "memory", "iops", "gpu", "cpu_used"};
  for (size_t r = 0; r < kNames.size(); ++r) {
    json.key(kNames[r]).begin_array();
    for (const sched::Shares& bucket : shares)
      json.value(six_places(bucket[r]));
    json.end_array();
  }
  json.end_object();
}

void write_plan(JsonWriter& json, const PlanJobs& jobs, const sched::Simulation& simulation) {
  json.begin_object();
  json.key("manifest").value(jobs.manifest);
  json.key("capacity");
  write_resources(json, jobs.capacity);
  json.key("strategy").value(to_string(simulation.policy.strategy));
  json.key("aging").value(simulation.policy.aging);
  json.key("window").value(static_cast<uint64_t>(simulation.policy.window));
  json.key("cpu_overcommit").value(simulation.policy.cpu_overcommit);
  json.key("keep_going").value(jobs.rules.keep_going);
  json.key("retry_backoff").value(std::chrono::duration<double>(jobs.rules.retry_backoff).count());
  json.key("makespan").value(six_places(simulation.makespan));
  json.key("lower_bound");
  write_bound(json, jobs.bound);
  double bound = jobs.bound.value();
  json.key("ratio").value(bound > 0 ? std::optional<double>(six_places(simulation.makespan / bound))
                                    : std::nullopt);
  json.key("never_started").value(static_cast<uint64_t>(simulation.never_started));
  json.key("skipped").value(static_cast<uint64_t>(simulation.skipped));
  json.key("timed_out").value(static_cast<uint64_t>(simulation.timed_out));
  json.key("retries").value(static_cast<uint64_t>(simulation.retried.size()));
  json.key("failed").value(static_cast<uint64_t>(simulation.failed));
  json.key("cut_short").value(static_cast<uint64_t>(simulation.cut_short));
  json.key("default_duration").value(jobs.default_duration);
  json.key("decisions");
  write_decisions(json, simulation.decisions);
  json.key("jobs").begin_array();
  for (size_t i = 0; i < jobs.demands.size(); ++i)
    write_job(json, jobs, simulation, i, sched::retried_attempts(simulation, i));
  json.end_array();
  json.key("utilisation");
  write_utilisation(json, jobs, simulation);
  json.end_object();
}

}  // namespace

std::string plan_json(const PlanJobs& jobs, const sched::Simulation& simulation) {
  JsonWriter json;
  write_plan_json(json, jobs, simulation);
  return json.str();
}

std::string comparison_json(const PlanJobs& jobs, const std::vector<sched::Simulation>& simulations,
                            size_t best) {
  JsonWriter json;
  write_comparison_json(json, jobs, simulations, best);
  return json.str();
}

void write_plan_json(JsonWriter& json, const PlanJobs& jobs, const sched::Simulation& simulation) {
  write_plan(json, jobs, simulation);
  json.finish();
}

void write_comparison_json(JsonWriter& json, const PlanJobs& jobs,
                           const std::vector<sched::Simulation>& simulations, size_t best) {
  json.begin_object();
  json.key("strategies").begin_array();
  for (const sched::Simulation& simulation : simulations)
    write_plan(json, jobs, simulation);
  json.end_array();
  json.key("best").value(simulations.empty() ? std::string_view()
                                             : to_string(simulations[best].policy.strategy));
  json.end_object();
  json.finish();
}

}  // namespace wp::report
