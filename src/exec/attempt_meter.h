// Measuring and controlling one job attempt as a whole process tree: through
// its own cgroup where wp may create one, else by sampling /proc. The runner
// asks the same questions either way; the record says which method answered.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>

#include "platform/job_cgroup.h"
#include "platform/proc_tree.h"
#include "report/run_report.h"
#include "util/result.h"

namespace wp::exec {

class AttemptMeter {
 public:
  using Clock = std::chrono::steady_clock;

  // Measured by its cgroup (`version` 1 or 2).
  AttemptMeter(platform::JobCgroup cgroup, int version);
  // Measured from /proc; call started() with the pid.
  AttemptMeter();

  void started(pid_t pid, Clock::time_point now);
  bool has_cgroup() const { return cgroup_.has_value(); }
  platform::JobCgroup* cgroup() { return cgroup_ ? &*cgroup_ : nullptr; }

  Clock::time_point next_sample() const { return next_; }
  // Reads CPU (on /proc the whole tree, from `table`, a scan shared by the
  // meters sampled now; required without a cgroup) for peak cores. Returns
  // true when the kernel's OOM killer has struck inside the job.
  bool sample(Clock::time_point now, const platform::ProcessTable* table = nullptr);
  // What the tree holds now: memory.current, or the sampled RSS.
  std::optional<Bytes> memory_now() const;

  // SIGKILLs every process of the job still alive, escaped daemons
  // included where a cgroup holds them. Returns how many were found.
  // `only_group`: the caller knows nothing of the job can be left outside
  // its process group, so the cgroup is not looked into.
  size_t kill_all(bool only_group = false);
  // The whole tree (cgroup freezer) when there is one, else the process
  // group with SIGSTOP/SIGCONT.
  void suspend(bool stopped);

  // The final figures, once the main process is reaped.
  report::Usage finish(const struct rusage& main_usage, double wall_seconds);

 private:
  void schedule(Clock::time_point now);

  std::optional<platform::JobCgroup> cgroup_;
  int version_ = 0;
  std::optional<platform::ProcTreeMeter> tree_;
  pid_t pid_ = -1;
  Clock::time_point next_{};
  std::chrono::milliseconds interval_{50};
  std::optional<Clock::time_point> last_time_;
  double last_cpu_ = 0;
  double peak_cores_ = 0;
  std::optional<Bytes> last_rss_;
};

}  // namespace wp::exec
