// Real cgroups for integration tests (root only): a child cgroup with a limit
// that the test process sits in while it lives, so wp starts inside it as it
// would in a container; and the run directories wp leaves in the hierarchies.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace wpit {

// A limit as cgroup v1 and cgroup v2 spell it.
struct Limit {
  std::string controller;  // "memory", "cpu"
  std::string v1_file;
  std::string v2_file;
  std::string v1_value;
  std::string v2_value;
};
Limit memory_limit(unsigned long long bytes);
Limit cpu_quota_millis(int millis);  // over the default 100 ms period

// A child cgroup with `limit`; moved back out and removed at the end.
class LimitedCgroup {
 public:
  explicit LimitedCgroup(const Limit& limit);
  ~LimitedCgroup();
  LimitedCgroup(const LimitedCgroup&) = delete;
  LimitedCgroup& operator=(const LimitedCgroup&) = delete;

  bool entered() const { return entered_; }
  const std::string& why() const { return why_; }

 private:
  std::filesystem::path home_;
  std::filesystem::path dir_;
  bool entered_ = false;
  std::string why_;
};

// Cgroup paths by v1 controller, and by "" on the unified hierarchy, from
// the text of a /proc/PID/cgroup file, in its order.
std::vector<std::pair<std::string, std::string>> cgroups_in(const std::string& proc_cgroup);

// Why job cgroups cannot be tested here ("not root", ...), or empty.
std::string job_cgroups_unavailable();

// Ends a test that needs job cgroups, with a warning, where there are none.
#define SKIP_WITHOUT_JOB_CGROUPS()                                   \
  do {                                                               \
    if (std::string why = job_cgroups_unavailable(); !why.empty()) { \
      WARN("skipped: " << why);                                      \
      return;                                                        \
    }                                                                \
  } while (false)

// The "wp-<pid>-<start>" run directories wp created under this process's
// cgroup in every hierarchy (v1 controllers and the unified one), and below
// their parents (cgroup v2 may put a run beside wp's cgroup).
std::vector<std::filesystem::path> wp_cgroup_dirs();
// Those of the wp with process id `pid`.
std::vector<std::filesystem::path> wp_cgroup_dirs_of(int pid);

}  // namespace wpit
