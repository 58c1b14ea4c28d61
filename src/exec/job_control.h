// Where each job attempt is measured and held to its limits: a cgroup of its
// own when wp may create them, else /proc sampling (and no limits). Decides
// the limits from what the scheduler admitted and the --enforce options.
#pragma once

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "exec/attempt_meter.h"
#include "platform/job_cgroup.h"
#include "report/run_report.h"
#include "resources/quantity.h"

namespace wp::exec {

enum class Enforce { None, Memory, All };
const char* to_string(Enforce enforce);  // "none", "memory", "all"

struct ControlOptions {
  Enforce enforce = Enforce::Memory;
  double memory_headroom = 1.25;  // memory limit = admitted memory x this
  platform::CgroupMode cgroups = platform::CgroupMode::Auto;
};

class JobControl {
 public:
  // Never fails: without cgroups, attempts are measured from /proc, and why
  // is in measurement().
  JobControl(const ControlOptions& options, const std::filesystem::path& run_dir);

  // A meter for one attempt, inside a cgroup of its own (a new one, or one
  // an earlier attempt left, reset) with its limits applied (written to
  // `limits`) when cgroups work; a cgroup that cannot be made for this
  // attempt falls back to /proc for it alone.
  AttemptMeter meter_for(const std::string& stem, int attempt, const Resources& admitted,
                         report::Limits& limits);

  bool has_cgroups() const { return run_.has_value(); }
  // The run's cgroup directories, for the sentinel to clean if wp dies.
  std::vector<std::filesystem::path> cgroup_dirs() const;
  // The run's cgroup2 directory (v2, or hybrid), whose memory PSI covers
  // every job.
  std::optional<std::filesystem::path> cgroup2_run_dir() const;
  const std::string& measurement() const { return measurement_; }
  std::string enforcement() const;
  // Removes the run's cgroups (also done by the destructor).
  void close() { run_.reset(); }

 private:
  report::Limits limits_for(const Resources& admitted) const;
  bool offers(std::string_view controller) const;  // not in CgroupRun::missing()
  void warn_what_is_missing(const std::filesystem::path& run_dir) const;

  ControlOptions options_;
  std::optional<platform::CgroupRun> run_;
  std::optional<platform::DeviceNumber> io_device_;  // backing the run directory
  std::string measurement_;
  bool warned_ = false;
  std::set<std::string> warned_kinds_;  // limits that could not be applied
};

}  // namespace wp::exec
