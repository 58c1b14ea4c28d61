// `wp run` and `wp validate`: load, check against capacity, act, report.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "cli/common.h"
#include "cli/options.h"
#include "exec/output.h"
#include "manifest/manifest.h"
#include "platform/sampler.h"
#include "profile/learn.h"
#include "profile/store.h"
#include "report/ci_format.h"
#include "report/info.h"
#include "report/junit.h"
#include "report/summary.h"
#include "util/atomic_file.h"
#include "util/log.h"
#include "util/unique_fd.h"

namespace wp::cli {
namespace {

// The summary is streamed, never held whole: with 100,000 jobs it is 160 MB.
// False, with errno, when a write failed.
bool stream_summary(const report::RunReport& report, int fd) {
  int error = 0;
  report::JsonWriter json([&](std::string_view piece) {
    if (error == 0 && !exec::write_all(fd, piece)) error = errno != 0 ? errno : EIO;
  });
  report::write_run_json(json, report);
  errno = error;
  return error == 0;
}

// <run-dir>/summary.json; its path, or none when it could not be written.
std::optional<std::filesystem::path> write_summary_file(const report::RunReport& report) {
  std::filesystem::path path = report.run_dir / "summary.json";
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
  if (!fd || !stream_summary(report, fd.get())) {
    log::get("cli")->error("cannot write {}: {}", path.string(), std::strerror(errno));
    return std::nullopt;
  }
  return path;
}

// Copies `in` to `out`; false, with errno, when reading or writing failed.
bool copy_fd(int in, int out) {
  std::string buffer(report::JsonWriter::kFlushSize, '\0');
  for (;;) {
    ssize_t n = ::read(in, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n == 0;
    if (!exec::write_all(out, std::string_view(buffer.data(), static_cast<size_t>(n)))) {
      return false;
    }
  }
}

// --json: the summary file as written, or the summary made again when there
// is none (a run directory on a full disk still owes stdout its document).
bool print_summary(const report::RunReport& report,
                   const std::optional<std::filesystem::path>& file) {
  UniqueFd saved(file ? ::open(file->c_str(), O_RDONLY | O_CLOEXEC) : -1);
  bool printed =
      saved ? copy_fd(saved.get(), STDOUT_FILENO) : stream_summary(report, STDOUT_FILENO);
  if (!printed) report_stdout_error("JSON", errno);
  return printed;
}

// The --enforce, --cgroup and memory-guard flags, already checked against
// their choices by CLI11, into the runner's options.
Status parse_enforcement(RunCommand& command) {
  exec::RunOptions& options = command.options;
  options.control.enforce = command.enforce == "none"  ? exec::Enforce::None
                            : command.enforce == "all" ? exec::Enforce::All
                                                       : exec::Enforce::Memory;
  if (!(command.memory_headroom >= 1.0) || command.memory_headroom > 100.0) {
    return make_error("--memory-headroom: {} is not between 1 and 100", command.memory_headroom);
  }
  options.control.memory_headroom = command.memory_headroom;
  options.control.cgroups = command.cgroup == "hybrid" ? platform::CgroupMode::Hybrid
                            : command.cgroup == "v1"   ? platform::CgroupMode::V1
                            : command.cgroup == "v2"   ? platform::CgroupMode::V2
                            : command.cgroup == "off"  ? platform::CgroupMode::Off
                                                       : platform::CgroupMode::Auto;
  options.memory_guard = command.memory_guard == "off"       ? exec::GuardMode::Off
                         : command.memory_guard == "hold"    ? exec::GuardMode::Hold
                         : command.memory_guard == "requeue" ? exec::GuardMode::Requeue
                                                             : exec::GuardMode::Suspend;
  if (!command.memory_reserve.empty()) {
    auto reserve = parse_bytes(command.memory_reserve);
    if (!reserve) return make_error("--memory-reserve: {}", reserve.error().message);
    if (*reserve == 0)
      return make_error("--memory-reserve: must be more than 0 (or use --memory-guard off)");
    options.pressure.reserve = *reserve;
  }
  return Ok{};
}

// --ci-format, already checked against its choices by CLI11.
report::CiFormat ci_format(const std::string& flag) {
  if (flag == "auto") {
    return report::detect_ci_format(std::getenv("GITHUB_ACTIONS"), std::getenv("GITLAB_CI"));
  }
  return report::parse_ci_format(flag).value_or(report::CiFormat::Plain);
}

// GitHub places an annotation by the file's path in the repository, which is
// checked out in $GITHUB_WORKSPACE; the manifest as given is relative to
// wherever wp was started.
std::string annotation_file(const std::string& manifest) {
  const char* workspace = std::getenv("GITHUB_WORKSPACE");
  if (workspace == nullptr || *workspace == '\0') return manifest;
  std::error_code ec;
  std::filesystem::path file = std::filesystem::weakly_canonical(manifest, ec);
  std::filesystem::path root = std::filesystem::weakly_canonical(workspace, ec);
  if (ec) return manifest;
  std::filesystem::path relative = file.lexically_relative(root);
  if (relative.empty() || *relative.begin() == "..") return manifest;
  return relative.string();
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

// --junit: the report into the file opened before the run, then renamed into
// place. False when it could not be written (said on stderr).
bool write_junit_file(const report::RunReport& report, const std::string& manifest,
                      AtomicFile& file) {
  // What a failure's report carries of its output: enough for the error
  // and its context, little enough that 1,000 failures stay readable.
  constexpr size_t kTailLines = 50;
  constexpr size_t kTailBytes = 4096;
  report::JunitOptions options{manifest, std::filesystem::path(manifest).stem().string(),
                               host_name(), [](const report::Attempt& attempt) {
                                 return exec::tail_text(attempt.main_log().string(), kTailLines,
                                                        kTailBytes);
                               }};
  report::write_junit(report, options, [&file](std::string_view piece) { file.write(piece); });
  if (Status committed = file.commit(); !committed) {
    log::get("cli")->error("--junit: {}", committed.error().message);
    return false;
  }
  return true;
}

profile::LearnOptions learn_options(const RunCommand& command) {
  profile::LearnOptions options;
  options.mode = learn_mode(command.learn);
  options.keep = command.keep;
  options.regression_threshold = command.regression_threshold / 100.0;
  return options;
}

}  // namespace

int run_command(RunCommand& command) {
  auto log = log::get("cli");
  // Before any file is opened: one could take the number of a jobserver fd
  // that make closed.
  std::optional<platform::Jobserver> jobserver = platform::Jobserver::from_environment();
  auto checked = load_valid(command.manifest, command.capacity, command.db, DbUse::Writes,
                            command.json, "nothing was run");
  if (!checked) return kExitUsage;
  auto grace = parse_duration(command.grace);
  auto backoff = parse_duration(command.retry_backoff);
  if (!grace || !backoff) {
    log->error("{}", !grace ? "--grace: " + grace.error().message
                            : "--retry-backoff: " + backoff.error().message);
    return kExitUsage;
  }
  command.options.grace = *grace;
  command.options.retry_backoff = *backoff;
  if (Status enforcement = parse_enforcement(command); !enforcement) {
    log->error("{}", enforcement.error().message);
    return kExitUsage;
  }
  auto policy = parse_policy(command.policy, command.policy.strategy);
  if (!policy) {
    log->error("{}", policy.error().message);
    return kExitUsage;
  }
  command.options.policy = *policy;
  command.options.jobserver = jobserver ? &*jobserver : nullptr;
  command.options.run_dir = command.run_dir;
  command.options.job_stdout_fd = command.json ? STDERR_FILENO : STDOUT_FILENO;
  command.options.progress =
      exec::progress_options(command.progress == "always"  ? exec::ProgressMode::Always
                             : command.progress == "never" ? exec::ProgressMode::Never
                                                           : exec::ProgressMode::Auto,
                             command.options.quiet);
  command.options.ci_format = ci_format(command.ci_format);
  command.options.annotation_file = annotation_file(command.manifest);
  // Opened now: a report that cannot be written is known before any job runs.
  std::optional<AtomicFile> junit;
  if (!command.junit.empty()) {
    auto file = AtomicFile::create(command.junit);
    if (!file) {
      log->error("--junit: {}", file.error().message);
      return kExitUsage;
    }
    junit.emplace(std::move(*file));
  }

  const manifest::Manifest& manifest = *checked->loaded.manifest;
  const Capacity& capacity = checked->capacity;
  Bytes reserve = command.options.pressure.reserve;
  if (command.options.memory_guard != exec::GuardMode::Off && reserve >= checked->machine_memory) {
    // The guard would hold admission for the whole run.
    log->error(
        "--memory-reserve {} is not below this machine's memory ({}); give less, or use "
        "--memory-guard off",
        format_bytes(reserve), format_bytes(checked->machine_memory));
    return kExitUsage;
  }
  if (manifest.jobs.empty()) log->warn("{} has no jobs; nothing to run", command.manifest);
  log->info("{} job{}; capacity {}", manifest.jobs.size(), manifest.jobs.size() == 1 ? "" : "s",
            format_capacity(capacity.total));
  log->debug("cpu: {}; memory: {}; iops: {}", capacity.cpu_source, capacity.memory_source,
             capacity.iops_source);
  if (command.keep < 3 && command.learn != "off") {
    log->warn(
        "--keep {} keeps fewer attempts than a prediction needs (3): jobs are admitted by "
        "their declarations",
        command.keep);
  }
  auto ledger = open_ledger(command.ledger, capacity.total, *policy);
  if (!ledger) return kExitUsage;
  command.options.ledger = *ledger ? &**ledger : nullptr;
  std::optional<profile::Store> store = open_history(command.db, DbUse::Writes);
  profile::Learning learning(store ? &*store : nullptr, manifest, capacity.total,
                             learn_options(command));
  learning.prepare(report::format_time(report::Clock::now()));
  log->debug("learning {}", learning.summary());
  command.options.admission = [&learning](size_t job) { return learning.admission(job); };
  command.options.observer = &learning;
  auto report = exec::run(manifest, capacity, command.options);
  if (!report) {
    log->error("{}", report.error().message);
    return kExitUsage;
  }
  learning.finish(*report);
  std::optional<std::filesystem::path> summary = write_summary_file(*report);
  if (!command.options.quiet || report->exit_code() != 0) {
    exec::write_all(STDERR_FILENO, report::run_text(*report));
  }
  int status = report->exit_code();
  if (command.json && !print_summary(*report, summary) && status == kExitOk) {
    status = kExitJobsFailed;
  }
  if (junit && !write_junit_file(*report, command.manifest, *junit) && status == kExitOk) {
    status = kExitJobsFailed;
  }
  return status;
}

int validate_command(const ValidateCommand& command) {
  auto checked = load_and_check(command.manifest, command.capacity, command.db, DbUse::ReadOnly);
  if (!checked) {
    log::get("cli")->error("{}", checked.error().message);
    return kExitUsage;
  }
  const manifest::Diagnostics& errors = checked->loaded.errors;
  size_t jobs = errors.empty() ? checked->loaded.manifest->jobs.size() : 0;
  if (command.json) {
    if (!print_stdout(report::validation_json(command.manifest, errors, jobs), "JSON")) {
      return kExitUsage;
    }
  } else if (errors.empty()) {
    std::string verdict =
        fmt::format("{}: ok ({} job{})\n", command.manifest, jobs, jobs == 1 ? "" : "s");
    if (!print_stdout(verdict, "the verdict")) return kExitUsage;
  } else {
    print_diagnostics(errors);
  }
  return errors.empty() ? kExitOk : kExitUsage;
}

int info_command(const InfoCommand& command) {
  auto flag_caps = caps_from_flags(command.capacity);
  if (!flag_caps) {
    log::get("cli")->error("{}", flag_caps.error().message);
    return kExitUsage;
  }
  platform::HostCapacity host = probe_host();
  Capacity capacity = resolve_capacity(host, CapacityCaps{}, *flag_caps,
                                       stored_iops(command.db, DbUse::ReadOnly, "."));
  // Rates (CPU use, disk, network) need two readings; 250 ms is long enough
  // to average out a burst and short enough not to notice.
  platform::Utilisation now = platform::sample_over(std::chrono::milliseconds(250));
  std::string text = command.json ? report::info_json(capacity, host, now)
                                  : report::info_text(capacity, host, now);
  return print_stdout(text, command.json ? "JSON" : "the capacity") ? kExitOk : kExitJobsFailed;
}

}  // namespace wp::cli
