#include "exec/job_control.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "util/log.h"

namespace wp::exec {

const char* to_string(Enforce enforce) {
  switch (enforce) {
    case Enforce::None:
      return "none";
    case Enforce::Memory:
      return "memory";
    case Enforce::All:
      return "all";
  }
  return "unknown";
}

JobControl::JobControl(const ControlOptions& options, const std::filesystem::path& run_dir)
    : options_(options) {
  auto log = log::get("run");
  auto run = platform::CgroupRun::create({options.cgroups, {}, options.enforce == Enforce::All});
  if (!run) {
    measurement_ = "procfs: " + run.error().message;
    // Said once a run, at info: most non-root users have no delegated
    // cgroup, and this is how wp works for them, not a fault.
    log->info("jobs are measured from /proc{}: {}",
              options.enforce == Enforce::None ? "" : " and not held to limits",
              run.error().message);
    return;
  }
  size_t stale = run->clean_stale();
  if (stale > 0) log->info("removed the cgroups of {} earlier wp run(s) that died", stale);
  measurement_ = run->describe();
  if (!run->missing().empty()) {
    log->debug("cgroup controllers not available: {}", fmt::join(run->missing(), ", "));
  }
  log->debug("jobs are measured by {}", measurement_);
  run_.emplace(std::move(*run));
  if (options.enforce == Enforce::All) io_device_ = platform::disk_of(run_dir);
  warn_what_is_missing(run_dir);
}

// Said once, at the start: what the user asked for that this machine's
// cgroups cannot do, and what to do about it.
void JobControl::warn_what_is_missing(const std::filesystem::path& run_dir) const {
  auto log = log::get("run");
  if (!offers("memory")) {
    log->warn(
        "no memory controller in {}: jobs' memory is neither measured nor limited (--cgroup auto "
        "picks the cgroup version that has one)",
        measurement_);
  }
  if (options_.enforce != Enforce::All) return;
  if (!offers("cpu")) log->warn("no cpu controller in {}: CPU is not limited", measurement_);
  if (!io_device_) {
    log->warn(
        "no block device behind the run directory {}: IOPS are not limited (use --run-dir "
        "on the disk the jobs use)",
        run_dir.string());
  } else if (!offers(run_->version() == 1 ? "blkio" : "io")) {
    log->warn("no I/O controller in {}: IOPS are not limited", measurement_);
  }
}

std::vector<std::filesystem::path> JobControl::cgroup_dirs() const {
  return run_ ? run_->dirs() : std::vector<std::filesystem::path>{};
}

bool JobControl::offers(std::string_view controller) const {
  const std::vector<std::string>& missing = run_->missing();
  return std::find(missing.begin(), missing.end(), controller) == missing.end();
}

std::optional<std::filesystem::path> JobControl::cgroup2_run_dir() const {
  if (!run_) return std::nullopt;
  return run_->cgroup2_dir();
}

// What will be enforced, as far as the controllers found allow.
std::string JobControl::enforcement() const {
  if (!run_ || options_.enforce == Enforce::None) return "none";
  std::vector<std::string> parts;
  parts.push_back(offers("memory")
                      ? fmt::format("memory (admitted x {:g})", options_.memory_headroom)
                      : "memory not enforced (no memory controller)");
  if (options_.enforce == Enforce::All) {
    parts.push_back(offers("cpu") ? "cpu (declared cores)"
                                  : "cpu not enforced (no cpu controller)");
    std::string io = run_->version() == 1 ? "blkio" : "io";
    if (!io_device_) {
      parts.push_back("iops not enforced (no block device behind the run directory)");
    } else if (!offers(io)) {
      parts.push_back("iops not enforced (no " + io + " controller)");
    } else {
      parts.push_back(
          fmt::format("iops (declared, on device {}:{})", io_device_->major, io_device_->minor));
    }
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

report::Limits JobControl::limits_for(const Resources& admitted) const {
  report::Limits limits;
  if (options_.enforce == Enforce::None) return limits;
  if (admitted.memory > 0) {
    double limit = std::ceil(static_cast<double>(admitted.memory) * options_.memory_headroom);
    limits.memory = static_cast<Bytes>(limit);
  }
  if (options_.enforce != Enforce::All) return limits;
  if (admitted.cpu.millis() > 0) limits.cpu = admitted.cpu;
  if (io_device_ && admitted.iops > 0 && admitted.iops != Resources::kUnlimited) {
    limits.iops = admitted.iops;
  }
  return limits;
}

AttemptMeter JobControl::meter_for(const std::string& stem, int attempt, const Resources& admitted,
                                   report::Limits& limits) {
  limits = {};
  if (!run_) return AttemptMeter();
  report::Limits wanted = limits_for(admitted);
  // A cgroup an earlier attempt used, when one is idle: making and removing
  // one in every hierarchy costs more than a small job.
  auto cgroup = run_->acquire_job({wanted.memory, wanted.cpu, wanted.iops, io_device_});
  if (!cgroup) {
    if (!warned_) {
      log::get("run")->warn("{}; measuring such jobs from /proc", cgroup.error().message);
      warned_ = true;
    }
    return AttemptMeter();
  }
  log::get("run")->trace("{}-{} runs in cgroup {}", stem, attempt, cgroup->name());
  // One limit at a time, so the record shows exactly those in force. One
  // that cannot be applied runs the job without it (better than not at
  // all), said once a run.
  // A limit without its controller is not tried: warn_what_is_missing said
  // so once, and a failed write would keep the cgroup from being reused.
  auto apply = [&](platform::JobLimits one, std::string_view kind, std::string_view controller) {
    if (!offers(controller)) return false;
    Status applied = cgroup->apply(one);
    if (!applied && warned_kinds_.insert(std::string(kind)).second) {
      log::get("run")->warn("cannot enforce {} limits: {}", kind, applied.error().message);
    }
    return static_cast<bool>(applied);
  };
  bool v1 = run_->version() == 1;
  if (wanted.memory && apply({wanted.memory, {}, {}, {}}, "memory", "memory")) {
    limits.memory = wanted.memory;
  }
  if (wanted.cpu && apply({{}, wanted.cpu, {}, {}}, "cpu", "cpu")) limits.cpu = wanted.cpu;
  if (wanted.iops && apply({{}, {}, wanted.iops, io_device_}, "iops", v1 ? "blkio" : "io")) {
    limits.iops = wanted.iops;
  }
  return AttemptMeter(std::move(*cgroup), run_->version());
}

}  // namespace wp::exec
