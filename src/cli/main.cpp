// The wp command line: CLI11 wiring only; the work is done by the library.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/options.h"
#include "cli/version.h"
#include "platform/process.h"
#include "report/plan.h"
#include "sched/policy.h"
#include "util/log.h"

namespace {

void add_db_flag(CLI::App* command, std::string& db) {
  command->add_option("--db", db,
                      "The state database (default: $WP_DB, else "
                      "$XDG_STATE_HOME/wp/wp.db, else ~/.local/state/wp/wp.db)");
}

void add_capacity_flags(CLI::App* command, wp::cli::CapacityFlags& flags) {
  command->add_option("--cpus", flags.cpus, "Cap the CPU cores wp may use, e.g. 4 or 1.5");
  command->add_option("--memory", flags.memory, "Cap the memory wp may use, e.g. 8GiB");
  command->add_option("--iops", flags.iops, "Cap the I/O operations per second wp may use");
}

// `wp plan` and `wp validate` run nothing, so they may be for another
// machine, larger than this one or not: `verb` says what they do with it.
void add_target_capacity_flags(CLI::App* command, wp::cli::CapacityFlags& flags,
                               const std::string& verb) {
  flags.as_given = true;
  command->add_option("--cpus", flags.cpus,
                      verb + " this many CPU cores, more than this machine's too, e.g. 16");
  command->add_option("--memory", flags.memory,
                      verb + " this much memory, more than this machine's too, e.g. 64GiB");
  command->add_option("--iops", flags.iops, verb + " this many I/O operations per second");
}

constexpr std::array<std::string_view, 7> kCommands{"run",       "plan",    "validate", "info",
                                                    "calibrate", "profile", "exec"};

// CLI11 says "A subcommand is required" for `wp exec`; say what is wrong.
bool known_command(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.empty() || arg[0] == '-') continue;
    if (std::find(kCommands.begin(), kCommands.end(), arg) != kCommands.end()) return true;
    std::fprintf(stderr,
                 "wp: unknown command '%.*s'; the commands are: run, plan, validate, info, "
                 "calibrate, profile, exec\n",
                 static_cast<int>(arg.size()), arg.data());
    return false;
  }
  return true;  // no command at all: CLI11 says so
}

// Points to the help of the command given (`wp profile history --help`),
// which lists its options, rather than wp's.
std::string failure_message(const CLI::App* app, const CLI::Error& e) {
  std::string name = "wp";
  for (const CLI::App* command = app; !command->get_subcommands().empty();) {
    command = command->get_subcommands().front();
    name += " " + command->get_name();
  }
  return "wp: " + std::string(e.what()) + "\nRun '" + name + " --help' for usage.\n";
}

// Range checks in wp's words: CLI11's Range says "Value abc not in range 20
// to 10000" even of a word. The description is Range's, for --help.
template <typename T>
CLI::Validator in_range(T min, T max) {
  constexpr bool whole = std::is_integral_v<T>;
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        T value{};
        const char* end = text.data() + text.size();
        auto [stop, error] = std::from_chars(text.data(), end, value);
        if (error == std::errc() && stop == end && value >= min && value <= max) return {};
        return fmt::format("'{}' is not a {} from {} to {}", text,
                           whole ? "whole number" : "number", min, max);
      },
      fmt::format("{} in [{} - {}]", whole ? "INT" : "FLOAT", min, max));
}

CLI::Validator whole_number(int64_t min, int64_t max) {
  return in_range(min, max);
}

CLI::Validator number_between(double min, double max) {
  return in_range(min, max);
}

std::vector<std::string> strategy_names() {
  std::vector<std::string> names;
  for (wp::sched::Strategy strategy : wp::sched::kStrategies)
    names.emplace_back(wp::sched::to_string(strategy));
  return names;
}

// The scheduler's policy, as `wp run` and `wp plan` take it.
void add_policy_flags(CLI::App* command, wp::cli::PolicyFlags& flags, bool with_all) {
  std::vector<std::string> choices = strategy_names();
  if (with_all) choices.emplace_back("all");
  command
      ->add_option("--strategy", flags.strategy,
                   with_all ? "Which ready job to start among those that may: first-fit, "
                              "best-fit, worst-fit, alignment; all compares them"
                            : "Which ready job to start among those that may: first-fit, "
                              "best-fit, worst-fit, alignment")
      ->check(CLI::IsMember(choices))
      ->capture_default_str();
  command
      ->add_option("--aging", flags.aging,
                   "Waiting worth one step of priority to the jobs of a priority that start "
                   "none, and how long the head of the queue lets backfill take what it waits "
                   "for (0: off)")
      ->capture_default_str();
  command
      ->add_option("--cpu-overcommit", flags.cpu_overcommit,
                   "How far the declared CPU of running jobs may exceed the cores, as a factor "
                   "(1: never; memory, IOPS and GPUs never are)")
      ->capture_default_str();
}

CLI::App* add_plan_command(CLI::App& app, wp::cli::PlanCommand& plan) {
  CLI::App* plan_app = app.add_subcommand(
      "plan",
      "Show the schedule a run would follow, its makespan and utilisation, running nothing");
  plan_app->add_option("manifest", plan.manifest, "The manifest (TOML)")->required();
  add_target_capacity_flags(plan_app, plan.capacity, "Plan for");
  add_db_flag(plan_app, plan.db);
  plan_app
      ->add_option("--learn", plan.learn,
                   "Admit by predictions from job history, as wp run would: auto, conservative, "
                   "off")
      ->check(CLI::IsMember({"auto", "conservative", "off"}))
      ->capture_default_str();
  add_policy_flags(plan_app, plan.policy, true);
  plan_app
      ->add_option("--default-duration", plan.default_duration,
                   "The run time assumed for a job with neither a prediction nor a timeout")
      ->capture_default_str();
  plan_app->add_flag("-k,--keep-going", plan.keep_going,
                     "Plan as wp run -k: keep starting independent jobs after a job failed");
  plan_app
      ->add_option("--retry-backoff", plan.retry_backoff,
                   "Plan as wp run --retry-backoff: the delay before a timed-out job's first "
                   "retry")
      ->capture_default_str();
  plan_app->add_flag("--json", plan.json, "Print the plan as JSON on stdout");
  plan_app->add_flag("--gantt", plan.gantt,
                     "Draw the chart of the schedule even when stdout is not a terminal (not "
                     "with --json, which gives each job's start and end)");
  plan_app
      ->add_option("--width", plan.width,
                   "Columns of the chart and utilisation strips, 20 to 10000 (default: the "
                   "terminal's, else $COLUMNS, held to that range, else 80)")
      ->check(whole_number(static_cast<int64_t>(wp::report::kMinPlanWidth),
                           static_cast<int64_t>(wp::report::kMaxPlanWidth)));
  return plan_app;
}

void add_profile_flags(CLI::App* command, wp::cli::ProfileCommand& profile) {
  add_db_flag(command, profile.db);
  command->add_option("--namespace", profile.space,
                      "Only the profiles of this namespace (default: every namespace)");
  command->add_flag("--json", profile.json, "Print the result as one JSON document on stdout");
}

CLI::App* add_profile_command(CLI::App& app, wp::cli::ProfileCommand& profile) {
  CLI::App* profile_app =
      app.add_subcommand("profile", "Show what wp learned about jobs; export, import or forget it");
  profile_app->require_subcommand(1);

  CLI::App* list = profile_app->add_subcommand(
      "list", "One line per profile: runs, last run, predictions, confidence, accuracy");
  add_profile_flags(list, profile);
  list->add_flag("--names", profile.names,
                 "Print only the profiles' names, one per line (for scripts and shell completion)");

  CLI::App* show = profile_app->add_subcommand(
      "show", "A profile's identity, aggregates, predictions and their accuracy");
  show->add_option("name", profile.name, "The profile (a job's name or `profile` key)")->required();
  add_profile_flags(show, profile);

  CLI::App* history =
      profile_app->add_subcommand("history", "A profile's stored attempts, oldest first");
  history->add_option("name", profile.name, "The profile (a job's name or `profile` key)")
      ->required();
  add_profile_flags(history, profile);
  history->add_option("--since", profile.since,
                      "Only attempts started since: a date or time (2026-11-20, "
                      "2026-11-20T10:00:00Z, UTC) or a duration ago (7d, 12h)");
  history->add_option("--limit", profile.limit, "Only the newest N attempts")
      ->check(whole_number(1, 1000000000));
  history->add_flag("--csv", profile.csv, "Print CSV (RFC 4180) with a header row");

  CLI::App* export_app = profile_app->add_subcommand(
      "export", "Write every stored attempt as a JSON document, for `wp profile import`");
  export_app->add_option("file", profile.file, "Where to write it (default, or -: stdout)");
  add_profile_flags(export_app, profile);

  CLI::App* import_app = profile_app->add_subcommand(
      "import", "Add the attempts of an export document; those already stored are skipped");
  import_app->add_option("file", profile.file, "The document (-: stdin)")->required();
  add_profile_flags(import_app, profile);
  import_app->add_option("--keep", profile.keep, "Attempts of each profile kept in the history")
      ->check(whole_number(1, 1000000))
      ->capture_default_str();

  CLI::App* forget =
      profile_app->add_subcommand("forget", "Remove a profile (or every one) and its attempts");
  forget->add_option("name", profile.name, "The profile to remove");
  forget->add_flag("--all", profile.all, "Remove every profile (of --namespace, if given)");
  add_profile_flags(forget, profile);
  return profile_app;
}

void add_ledger_flag(CLI::App* command, std::string& ledger) {
  command
      ->add_option("--ledger", ledger,
                   "Share the machine's capacity with every other wp through the ledger of "
                   "leases in the runtime directory: on, off (also WP_LEDGER=off)")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
}

CLI::App* add_exec_command(CLI::App& app, wp::cli::ExecCommand& exec) {
  CLI::App* exec_app = app.add_subcommand(
      "exec",
      "Run one command (after --) under the ledger every wp of this user shares, measured and "
      "learned like a manifest job; exits with its status");
  exec_app->add_option("command", exec.command, "The command and its arguments, after --")
      ->required();
  exec_app->add_option("--name", exec.name,
                       "The profile its history goes to (default: the command line)");
  exec_app->add_option("--cpu", exec.cpu, "Cores it needs, e.g. 2 or 0.5")->capture_default_str();
  exec_app->add_option("--memory", exec.memory, "Memory it needs, e.g. 2GiB")
      ->capture_default_str();
  exec_app->add_option("--iops", exec.iops, "I/O operations per second it needs")
      ->capture_default_str();
  exec_app->add_option("--gpu", exec.gpu, "GPUs it needs")->capture_default_str();
  exec_app->add_option("--timeout", exec.timeout, "End it (SIGTERM) after this long, e.g. 10m");
  exec_app
      ->add_option("--priority", exec.priority,
                   "Its place among the processes waiting for capacity: higher goes first")
      ->capture_default_str();
  exec_app->add_option("--cpus", exec.cpus,
                       "Cap the CPU cores wp may use, e.g. 4 or 1.5 (default: detected)");
  exec_app
      ->add_option("--cpu-overcommit", exec.cpu_overcommit,
                   "How far the declared CPU of running jobs may exceed the cores, as a factor "
                   "(1: never)")
      ->capture_default_str();
  add_db_flag(exec_app, exec.db);
  exec_app
      ->add_option("--learn", exec.learn,
                   "Admit by predictions from its history: auto, conservative, off")
      ->check(CLI::IsMember({"auto", "conservative", "off"}))
      ->capture_default_str();
  add_ledger_flag(exec_app, exec.ledger);
  return exec_app;
}

}  // namespace

int main(int argc, char** argv) {
  wp::platform::ensure_standard_fds();
  wp::platform::ignore_broken_pipe();
  CLI::App app{
      "wp: a resource-aware batch runner. Packs the jobs of a TOML manifest onto the "
      "machine without ever oversubscribing it.",
      "wp"};
  app.set_version_flag("--version", wp::cli::build_version());
  app.require_subcommand(1);
  app.failure_message(failure_message);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Show debug messages");

  wp::cli::RunCommand run;
  CLI::App* run_app = app.add_subcommand("run", "Run the jobs of a manifest");
  run_app->add_option("manifest", run.manifest, "The manifest (TOML)")->required();
  add_capacity_flags(run_app, run.capacity);
  add_db_flag(run_app, run.db);
  run_app->add_flag("-k,--keep-going", run.options.keep_going,
                    "Keep starting independent jobs after a job failed");
  run_app->add_flag("--json", run.json, "Print the run summary as JSON on stdout");
  run_app->add_flag("-q,--quiet", run.options.quiet,
                    "Show only failures (and the tail of their logs)");
  run_app
      ->add_option(
          "--progress", run.progress,
          "The live status area at the bottom of the terminal: auto (when standard "
          "error is a terminal, TERM is not dumb, NO_COLOR is not set and not -q), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  run_app->add_option("--run-dir", run.run_dir,
                      "Where logs go (default: .wp/runs/RUN-ID next to the manifest)");
  run_app->add_option("--grace", run.grace, "Time between SIGTERM and SIGKILL")
      ->capture_default_str();
  run_app
      ->add_option("--retry-backoff", run.retry_backoff,
                   "Delay before the first retry; doubles each retry, at most 1m")
      ->capture_default_str();
  run_app
      ->add_option("--enforce", run.enforce,
                   "Limits each job's cgroup holds it to: memory, all (also cpu and iops), none")
      ->check(CLI::IsMember({"none", "memory", "all"}))
      ->capture_default_str();
  run_app
      ->add_option("--memory-headroom", run.memory_headroom,
                   "A job's memory limit is its declared or admitted memory, the larger, times "
                   "this (1 to 100)")
      ->capture_default_str();
  run_app
      ->add_option("--cgroup", run.cgroup,
                   "Per-job cgroups: auto, hybrid (v1 controllers with cgroup2 beside them), "
                   "v1, v2, or off (measure from /proc, no limits)")
      ->check(CLI::IsMember({"auto", "hybrid", "v1", "v2", "off"}))
      ->capture_default_str();
  run_app
      ->add_option("--memory-guard", run.memory_guard,
                   "Under memory pressure: suspend or requeue the youngest job, hold (only stop "
                   "starting jobs), off")
      ->check(CLI::IsMember({"suspend", "requeue", "hold", "off"}))
      ->capture_default_str();
  run_app
      ->add_option("--learn", run.learn,
                   "Admit by predictions from job history: auto (lower or raise the "
                   "declaration), conservative (only raise), off")
      ->check(CLI::IsMember({"auto", "conservative", "off"}))
      ->capture_default_str();
  run_app->add_option("--keep", run.keep, "Attempts of each job kept in the history")
      ->check(whole_number(1, 1000000))
      ->capture_default_str();
  run_app
      ->add_option("--regression-threshold", run.regression_threshold,
                   "Flag a job whose peak memory or wall time is this many percent above the "
                   "median of its last 20 runs")
      ->check(number_between(0, 100000))
      ->capture_default_str();
  run_app->add_option("--memory-reserve", run.memory_reserve,
                      "Stop starting jobs when less memory than this is available (default: 5% "
                      "of capacity, 256MiB to 4GiB); act at half of it");
  add_policy_flags(run_app, run.policy, false);
  add_ledger_flag(run_app, run.ledger);
  run_app->add_option("--junit", run.junit,
                      "Write a JUnit XML report, a testcase per job, to this file when the run "
                      "ends");
  run_app
      ->add_option("--ci-format", run.ci_format,
                   "Job output for a CI log: github (groups, error annotations), gitlab "
                   "(collapsible sections), plain (prefixed lines), or auto: github if "
                   "$GITHUB_ACTIONS is true, gitlab if $GITLAB_CI is true, else plain")
      ->check(CLI::IsMember({"auto", "github", "gitlab", "plain"}))
      ->capture_default_str();

  wp::cli::PlanCommand plan;
  CLI::App* plan_app = add_plan_command(app, plan);

  wp::cli::ValidateCommand validate;
  CLI::App* validate_app = app.add_subcommand("validate", "Check a manifest without running it");
  validate_app->add_option("manifest", validate.manifest, "The manifest (TOML)")->required();
  add_target_capacity_flags(validate_app, validate.capacity, "Check against");
  add_db_flag(validate_app, validate.db);
  validate_app->add_flag("--json", validate.json, "Print the result as JSON on stdout");

  if (!known_command(argc, argv)) return wp::cli::kExitUsage;
  wp::cli::InfoCommand info;
  CLI::App* info_app =
      app.add_subcommand("info", "Show the capacity wp sees and where each figure comes from");
  add_capacity_flags(info_app, info.capacity);
  add_db_flag(info_app, info.db);
  info_app->add_flag("--json", info.json, "Print it as JSON on stdout");

  wp::cli::CalibrateCommand calibrate;
  CLI::App* calibrate_app = app.add_subcommand(
      "calibrate", "Measure the random 4 KiB IOPS of a directory's filesystem and store them");
  calibrate_app->add_option("--dir", calibrate.dir,
                            "The directory whose filesystem to probe (default: the current one)");
  calibrate_app->add_option("--seconds", calibrate.seconds, "How long to probe, reads and writes")
      ->capture_default_str();
  add_db_flag(calibrate_app, calibrate.db);
  calibrate_app->add_flag("--json", calibrate.json, "Print the result as JSON on stdout");

  wp::cli::ProfileCommand profile;
  CLI::App* profile_app = add_profile_command(app, profile);

  wp::cli::ExecCommand exec;
  CLI::App* exec_app = add_exec_command(app, exec);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : wp::cli::kExitUsage;
  }
  using wp::log::Verbosity;
  // wp exec passes the command's output through: wp says only what is wrong.
  bool quiet = (run_app->parsed() && run.options.quiet) || exec_app->parsed();
  wp::log::setup(verbose ? Verbosity::Verbose
                 : quiet ? Verbosity::Quiet
                         : Verbosity::Normal,
                 wp::cli::use_colour(STDERR_FILENO));
  if (exec_app->parsed()) return wp::cli::exec_command(exec);
  if (run_app->parsed()) return wp::cli::run_command(run);
  if (plan_app->parsed()) return wp::cli::plan_command(plan);
  if (info_app->parsed()) return wp::cli::info_command(info);
  if (calibrate_app->parsed()) return wp::cli::calibrate_command(calibrate);
  if (profile_app->parsed()) {
    profile.action = profile_app->get_subcommands().front()->get_name();
    return wp::cli::profile_command(profile);
  }
  return wp::cli::validate_command(validate);
}
