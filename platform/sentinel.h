// A guard that outlives wp: a small forked process that knows the process
// groups of running jobs and, if wp dies without saying goodbye (SIGKILL, a
// crash), stops them, so a killed wp leaves no orphaned jobs behind. Given
// the run's cgroup directories, it then kills whatever is left in them (a
// daemon that left its job's process group) and removes them.
// Implemented per platform (platform/linux/sentinel.cpp).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <vector>

#include "util/result.h"
#include "util/unique_fd.h"

namespace wp::platform {

class Sentinel {
 public:
  // Forks the sentinel. Call before wp opens any other fd it would inherit.
  // `grace` is the time between SIGTERM and SIGKILL it gives orphaned jobs;
  // `cgroup_dirs` are the run's cgroup directories (CgroupRun::dirs).
  static Result<Sentinel> start(std::chrono::milliseconds grace,
                                std::vector<std::filesystem::path> cgroup_dirs = {});

  Sentinel(Sentinel&& other) noexcept;
  Sentinel& operator=(Sentinel&&) = delete;
  Sentinel(const Sentinel&) = delete;
  Sentinel& operator=(const Sentinel&) = delete;
  ~Sentinel();  // says goodbye and reaps the sentinel

  void watch(pid_t pgid);   // a job's process group started
  void forget(pid_t pgid);  // ... and is gone
  pid_t pid() const { return pid_; }
  // The sentinel was reaped by someone's waitpid(-1): nothing left to dismiss.
  void reaped() { pid_ = -1; }

 private:
  Sentinel(UniqueFd channel, pid_t pid) : channel_(std::move(channel)), pid_(pid) {}
  void send(char op, pid_t pgid);

  UniqueFd channel_;
  pid_t pid_ = -1;
};

}  // namespace wp::platform
