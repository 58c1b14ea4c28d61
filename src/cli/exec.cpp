// `wp exec -- CMD ARGS...`: one command as a one-job manifest built in
// memory, run by the same runner as `wp run` (admission, the ledger of this
// user's wp processes, cgroups, measurement, learning), with wp's stdio
// passed through.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "cli/common.h"
#include "cli/options.h"
#include "exec/run_dir.h"
#include "exec/runner.h"
#include "manifest/manifest.h"
#include "platform/jobserver.h"
#include "platform/shared_table.h"
#include "profile/learn.h"
#include "report/summary.h"
#include "util/log.h"

namespace wp::cli {
namespace {

namespace fs = std::filesystem;

// The status of a command that could not be started, as the shell gives.
constexpr int kExitCannotRun = 127;
// The longest profile name derived from a command.
constexpr size_t kDerivedNameMax = 100;

// The command as typed, shortened: `wp profile list` shows it. A control
// character in an argument (a tab, a newline) is written as \uXXXX, as a
// name may hold none; the cut falls between characters, not inside one.
std::string derived_name(const std::vector<std::string>& command) {
  std::string name = manifest::escaped_controls(fmt::format("{}", fmt::join(command, " ")));
  if (name.size() <= kDerivedNameMax) return name;
  size_t cut = kDerivedNameMax - 3;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80)
    --cut;  // a UTF-8 continuation byte
  return name.substr(0, cut) + "...";
}

Result<double> parse_count(const std::string& text, const char* flag) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !(value >= 0) || value > 1e18) {
    return make_error("{}: '{}' is not a number of 0 or more", flag, text);
  }
  return value;
}

Result<Resources> parse_demand(const ExecCommand& command) {
  auto cpu = parse_count(command.cpu, "--cpu");
  if (!cpu) return cpu.error();
  if (*cpu < Cores::kMin || *cpu > Cores::kMax) {
    return make_error("--cpu: '{}' is not a number of cores from {} to {}", command.cpu,
                      Cores::kMin, Cores::kMax);
  }
  auto memory = parse_bytes(command.memory);
  if (!memory) return make_error("--memory: {}", memory.error().message);
  auto iops = parse_count(command.iops, "--iops");
  if (!iops) return iops.error();
  auto gpu = parse_count(command.gpu, "--gpu");
  if (!gpu) return gpu.error();
  if (*iops != static_cast<double>(static_cast<uint64_t>(*iops)) || *gpu > 1024 ||
      *gpu != static_cast<double>(static_cast<Gpus>(*gpu))) {
    return make_error("--iops and --gpu take whole numbers");
  }
  return Resources{Cores::from_double(*cpu), *memory, static_cast<Iops>(*iops),
                   static_cast<Gpus>(*gpu)};
}

// The one-job manifest: the command exec'd directly (no shell), in the
// current directory. Its namespace is that of a manifest there, so a
// Makefile's recipes share one.
Result<manifest::Manifest> one_job(const ExecCommand& command) {
  auto demand = parse_demand(command);
  if (!demand) return demand.error();
  if (std::optional<char32_t> control = manifest::control_character(command.name)) {
    return make_error("--name: a profile name may not hold the control character {}",
                      manifest::code_point(*control));
  }
  manifest::Job job;
  job.name = command.name.empty() ? derived_name(command.command) : command.name;
  job.argv = command.command;
  job.request = *demand;
  job.priority = command.priority;
  std::error_code ec;
  job.cwd = fs::current_path(ec).string();
  if (ec) return make_error("cannot read the current directory: {}", ec.message());
  if (!command.timeout.empty()) {
    auto timeout = parse_duration(command.timeout);
    if (!timeout) return make_error("--timeout: {}", timeout.error().message);
    job.timeout = *timeout;
  }
  manifest::Manifest manifest;
  manifest.path = fs::path(job.cwd.str()) / "wp-exec";
  manifest.jobs.push_back(std::move(job));
  return manifest;
}

Result<Capacity> exec_capacity(const ExecCommand& command, const manifest::Job& job) {
  CapacityFlags flags;
  flags.cpus = command.cpus;
  auto caps = caps_from_flags(flags);
  if (!caps) return caps.error();
  Capacity capacity = resolve_capacity(probe_host(), CapacityCaps{}, *caps,
                                       stored_iops(command.db, DbUse::Writes, job.cwd.str()));
  if (!job.request.fits_in(capacity.total)) {
    return make_error("the command asks for {}, more than the capacity ({})",
                      format_resources(job.request), format_capacity(capacity.total));
  }
  return capacity;
}

// The run directory holds nothing of a passed-through command but what
// cgroups need; it goes with the run.
fs::path scratch_run_dir(const std::string& run_id) {
  auto runtime = platform::runtime_dir();
  std::error_code ec;
  fs::path base = runtime ? *runtime : fs::temp_directory_path(ec);
  return base / ("exec-" + run_id);
}

// The command's status: its exit code, 128 + the signal that ended it, 127
// when it could not be started; wp's own 128 + signal when interrupted
// before it started.
int status_of(const report::RunReport& report) {
  const report::JobReport& job = report.jobs.front();
  if (job.attempts.empty()) return report.interrupted_by ? 128 + *report.interrupted_by : 1;
  const report::Attempt& last = job.attempts.back();
  if (!last.spawn_error.empty()) return kExitCannotRun;
  if (last.signal) return 128 + *last.signal;
  return last.exit_code.value_or(1);
}

}  // namespace

int exec_command(const ExecCommand& command) {
  auto log = log::get("cli");
  // Before any file is opened: one could take the number of a jobserver fd
  // that make closed.
  std::optional<platform::Jobserver> jobserver = platform::Jobserver::from_environment();
  auto manifest = one_job(command);
  if (!manifest) {
    log->error("{}", manifest.error().message);
    return kExitUsage;
  }
  auto capacity = exec_capacity(command, manifest->jobs.front());
  if (!capacity) {
    log->error("{}", capacity.error().message);
    return kExitUsage;
  }
  PolicyFlags policy_flags;
  policy_flags.cpu_overcommit = command.cpu_overcommit;
  auto policy = parse_policy(policy_flags, policy_flags.strategy);
  if (!policy) {
    log->error("{}", policy.error().message);
    return kExitUsage;
  }
  auto ledger = open_ledger(command.ledger, capacity->total, *policy);
  if (!ledger) return kExitUsage;
  exec::RunOptions options;
  options.policy = *policy;
  options.passthrough = true;
  options.ledger = *ledger ? &**ledger : nullptr;
  options.jobserver = jobserver ? &*jobserver : nullptr;
  options.run_dir = scratch_run_dir(exec::make_run_id(report::Clock::now(), ::getpid()));
  std::optional<profile::Store> store = open_history(command.db, DbUse::Writes);
  profile::LearnOptions learn;
  learn.mode = learn_mode(command.learn);
  profile::Learning learning(store ? &*store : nullptr, *manifest, capacity->total, learn);
  learning.prepare(report::format_time(report::Clock::now()));
  options.admission = [&learning](size_t job) { return learning.admission(job); };
  options.observer = &learning;
  auto report = exec::run(*manifest, *capacity, options);
  std::error_code ignored;
  fs::remove_all(options.run_dir, ignored);
  if (!report) {
    log->error("{}", report.error().message);
    return kExitUsage;
  }
  learning.finish(*report);
  return status_of(*report);
}

}  // namespace wp::cli
