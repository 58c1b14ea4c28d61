// A guard that outlives wp: a small forked process that knows the process
// groups of running jobs and, if wp dies without saying goodbye (SIGKILL, a
// crash), stops them, so a killed wp leaves no orphaned jobs behind. Given
// the run's cgroup directories, it then kills whatever is left in them (a
// daemon that left its job's process group) and removes them; given the
// mark every job's processes carry in their environment, it stops those
// too, which is how such a daemon is found without cgroups.
// Implemented per platform (platform/linux/sentinel.cpp).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "util/result.h"
#include "util/unique_fd.h"

namespace wp::platform {

// wp tells the sentinel which groups run through a table in memory the two
// share (mapped before the fork), not through messages: a message woke the
// sentinel twice a job, which cost wp as much as all of a small job's
// cgroup reads. The sentinel only waits for the channel to close (wp gone)
// or for goodbye, then reads the table. Beyond the table's slots (tens of
// thousands of jobs running at once) a group is sent as a message.
class Sentinel {
 public:
  // Forks the sentinel. Call before wp opens any other fd it would inherit.
  // `grace` is the time between SIGTERM and SIGKILL it gives orphaned jobs;
  // `cgroup_dirs` are the run's cgroup directories (CgroupRun::dirs);
  // `mark` an environment entry (NAME=value) unique to the run that every
  // job's process inherits, or empty.
  static Result<Sentinel> start(std::chrono::milliseconds grace,
                                std::vector<std::filesystem::path> cgroup_dirs = {},
                                std::string mark = {});

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

  struct Table;  // the shared slots (platform/linux/sentinel.cpp)

 private:
  Sentinel(UniqueFd channel, pid_t pid, Table* table)
      : channel_(std::move(channel)), pid_(pid), table_(table) {}
  void send(char op, pid_t pgid);

  UniqueFd channel_;
  pid_t pid_ = -1;
  Table* table_ = nullptr;  // mapped shared with the sentinel; nullptr: messages only
  std::unordered_map<pid_t, uint32_t> slot_of_;  // watched groups in the table
  std::vector<uint32_t> free_slots_;             // below the table's high-water mark
};

}  // namespace wp::platform
