// `wp plan`: the schedule `wp run` would follow, simulated with what each
// job is expected to take, without running anything or writing anywhere.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>

#include "cli/common.h"
#include "cli/options.h"
#include "exec/output.h"
#include "exec/runner.h"
#include "platform/terminal.h"
#include "report/json_writer.h"
#include "report/plan.h"
#include "report/summary.h"
#include "sched/simulate.h"
#include "util/log.h"

namespace wp::cli {
namespace {

constexpr size_t kDefaultWidth = 80;

struct PlanSettings {
  std::vector<sched::Strategy> strategies;
  sched::Policy policy;
  double default_duration = 60;
  std::chrono::milliseconds retry_backoff{1000};
  report::PlanView view;
};

std::optional<size_t> columns_from_env() {
  const char* text = std::getenv("COLUMNS");
  if (text == nullptr) return std::nullopt;
  size_t columns = 0;
  const char* end = text + std::strlen(text);
  auto [stop, ec] = std::from_chars(text, end, columns);
  if (ec == std::errc::result_out_of_range) return report::kMaxPlanWidth;
  if (ec != std::errc() || stop != end || columns == 0) return std::nullopt;
  return columns;
}

// --width, else the terminal's, else $COLUMNS (a shell sets it without
// exporting it, but a user may), else 80. A terminal or $COLUMNS outside the
// range --width takes is held to it, as near to its width as the chart
// can be drawn.
size_t chart_width(int flag) {
  if (flag > 0) return static_cast<size_t>(flag);
  std::optional<size_t> columns;
  if (std::optional<int> terminal = platform::terminal_columns(STDOUT_FILENO)) {
    columns = static_cast<size_t>(std::max(*terminal, 0));
  } else {
    columns = columns_from_env();
  }
  return std::clamp(columns.value_or(kDefaultWidth), report::kMinPlanWidth, report::kMaxPlanWidth);
}

Result<PlanSettings> parse_settings(const PlanCommand& command) {
  bool all = command.policy.strategy == "all";
  auto policy = parse_policy(command.policy, all ? default_strategy() : command.policy.strategy);
  if (!policy) return policy.error();
  auto assumed = parse_duration(command.default_duration);
  if (!assumed) return make_error("--default-duration: {}", assumed.error().message);
  if (assumed->count() <= 0) {
    return make_error("--default-duration: must be greater than 0, e.g. 30s");
  }
  auto backoff = parse_duration(command.retry_backoff);
  if (!backoff) return make_error("--retry-backoff: {}", backoff.error().message);
  PlanSettings settings;
  settings.retry_backoff = *backoff;
  settings.policy = *policy;
  if (all) {
    settings.strategies.assign(sched::kStrategies.begin(), sched::kStrategies.end());
  } else {
    settings.strategies = {policy->strategy};
  }
  settings.default_duration = std::chrono::duration<double>(*assumed).count();
  settings.view.gantt = command.gantt || platform::is_terminal(STDOUT_FILENO);
  settings.view.width = chart_width(command.width);
  return settings;
}

// The history database when there is one. A plan only reads it: where
// there is none, it plans by the declarations rather than create one.
std::optional<profile::Store> existing_history(const std::string& db_flag) {
  auto log = log::get("learn");
  auto path = profile::resolve_db_path(db_flag);
  if (!path) {
    log->warn("job history not used: {}", path.error().message);
    return std::nullopt;
  }
  std::error_code ec;
  if (!std::filesystem::exists(*path, ec)) {
    log->info("no job history at {}: planning by the declarations and timeouts", path->string());
    return std::nullopt;
  }
  return open_history(db_flag, DbUse::ReadOnly);
}

// What each job is assumed to take: its predicted wall time, else its
// timeout, else the default; and the cores it keeps busy meanwhile: its
// predicted use, else what admission holds for it.
void assume_durations(const manifest::Manifest& manifest, const profile::Learning& learning,
                      double default_duration, report::PlanJobs& jobs) {
  for (size_t i = 0; i < manifest.jobs.size(); ++i) {
    const manifest::Job& job = manifest.jobs[i];
    jobs.rules.cpu_use.push_back(
        learning.predicted_cores(i).value_or(jobs.demands[i].demand.cpu.as_double()));
    jobs.rules.timeouts.push_back(job.timeout ? std::chrono::duration<double>(*job.timeout).count()
                                              : std::numeric_limits<double>::infinity());
    jobs.rules.retries.push_back(job.retries);
    if (std::optional<double> wall = learning.predicted_wall(i)) {
      jobs.durations.push_back(*wall);
      jobs.sources.push_back(report::DurationSource::Predicted);
    } else if (job.timeout) {
      jobs.durations.push_back(std::chrono::duration<double>(*job.timeout).count());
      jobs.sources.push_back(report::DurationSource::Timeout);
    } else {
      jobs.durations.push_back(default_duration);
      jobs.sources.push_back(report::DurationSource::Default);
    }
  }
}

// The scheduler gets exactly what `wp run` would give it (demands and
// expected durations from the same learning); only the clock is simulated.
report::PlanJobs plan_jobs(const PlanCommand& command, const manifest::Manifest& manifest,
                           const Checked& checked, const PlanSettings& settings) {
  const Capacity& capacity = checked.capacity;
  std::optional<profile::Store> store = existing_history(command.db);
  profile::LearnOptions options;
  options.mode = learn_mode(command.learn);
  profile::Learning learning(store ? &*store : nullptr, manifest, capacity.total, options);
  learning.decide();
  log::get("learn")->debug("learning {}", learning.summary());
  report::PlanJobs jobs;
  jobs.manifest = command.manifest;
  jobs.capacity = capacity.total;
  jobs.demands =
      // A plan ends an attempt at its timeout (see wp-plan(1)): no grace.
      exec::demands_of(
          manifest, [&learning](size_t job) { return learning.admission(job); },
          std::chrono::milliseconds(0));
  jobs.default_duration = settings.default_duration;
  // A cap below the machine limits what starts, not the cores jobs run on.
  jobs.rules.cores = std::max(capacity.total.cpu, checked.machine_cpu).as_double();
  jobs.rules.retry_backoff = settings.retry_backoff;
  jobs.rules.keep_going = command.keep_going;
  assume_durations(manifest, learning, settings.default_duration, jobs);
  jobs.bound = sched::lower_bound(jobs.demands, jobs.durations, jobs.capacity,
                                  settings.policy.cpu_overcommit, jobs.rules);
  return jobs;
}

std::string render_text(const PlanSettings& settings, const report::PlanJobs& jobs,
                        const std::vector<sched::Simulation>& simulations) {
  if (simulations.size() == 1) return report::plan_text(jobs, simulations.front(), settings.view);
  return report::comparison_text(jobs, simulations, report::best_of(simulations), settings.view);
}

// Streamed, never held whole: the plan of 100,000 jobs is 27 MB.
bool print_json(const report::PlanJobs& jobs, const std::vector<sched::Simulation>& simulations) {
  int error = 0;
  report::JsonWriter json([&](std::string_view piece) {
    if (error == 0 && !exec::write_all(STDOUT_FILENO, piece)) error = errno != 0 ? errno : EIO;
  });
  if (simulations.size() == 1) {
    report::write_plan_json(json, jobs, simulations.front());
  } else {
    report::write_comparison_json(json, jobs, simulations, report::best_of(simulations));
  }
  if (error != 0) report_stdout_error("JSON", error);
  return error == 0;
}

}  // namespace

int plan_command(const PlanCommand& command) {
  auto log = log::get("cli");
  auto checked = load_valid(command.manifest, command.capacity, command.db, DbUse::ReadOnly,
                            command.json, "nothing was planned");
  if (!checked) return kExitUsage;
  auto settings = parse_settings(command);
  if (!settings) {
    log->error("{}", settings.error().message);
    return kExitUsage;
  }
  report::PlanJobs jobs = plan_jobs(command, *checked->loaded.manifest, *checked, *settings);
  // The plan needs nothing more of the manifest: the simulations get the
  // room its jobs took (90 MB for 100,000 jobs with long commands and env).
  checked->loaded.manifest.reset();
  std::vector<sched::Simulation> simulations;
  for (sched::Strategy strategy : settings->strategies) {
    sched::Policy policy = settings->policy;
    policy.strategy = strategy;
    simulations.push_back(
        sched::simulate(jobs.demands, jobs.durations, jobs.capacity, policy, jobs.rules));
  }
  bool printed = command.json ? print_json(jobs, simulations)
                              : print_stdout(render_text(*settings, jobs, simulations), "the plan");
  return printed ? kExitOk : kExitJobsFailed;
}

}  // namespace wp::cli
