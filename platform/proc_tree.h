// Measuring a job without cgroups: its process tree sampled from /proc. The
// tree is every descendant of the job's main process plus every member of
// its process group (a descendant reparented to wp, the subreaper, stays in
// the group). Implemented per platform (platform/linux/proc_tree.cpp).
//
// What sampling cannot see, and how the figures make up for it:
// - memory between two samples: peak RSS is the highest *summed* RSS seen,
//   raised to the main process's ru_maxrss at the end (the largest single
//   process: a lower bound for the tree, never the tree) when that is above
//   wp's own peak (a vforked child inherits the parent's high-water mark);
// - processes that ended between samples: their CPU time and I/O are carried
//   into their parent's cutime/cstime and /proc/PID/io once it reaps them,
//   and into wait4's rusage for the main process; the tree's figure is the
//   highest of what was sampled and what rusage says.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>

#include "resources/quantity.h"

namespace wp::platform {

// One look at the tree.
struct TreeSample {
  size_t processes = 0;
  Bytes rss = 0;             // summed VmRSS
  double cpu_seconds = 0;    // summed utime+stime+cutime+cstime
  uint64_t read_bytes = 0;   // /proc/PID/io read_bytes (storage), summed
  uint64_t write_bytes = 0;  // write_bytes
  uint64_t read_calls = 0;   // syscr: read system calls, the closest /proc has to ops
  uint64_t write_calls = 0;  // syscw
};

// The figures of a finished job, by sampling.
struct TreeUsage {
  Bytes peak_rss = 0;
  double cpu_seconds = 0;
  double user_seconds = 0;  // from rusage (the tree's split is not sampled)
  double system_seconds = 0;
  uint64_t read_bytes = 0, write_bytes = 0;
  uint64_t read_calls = 0, write_calls = 0;
  double peak_cores = 0;  // highest CPU rate between two samples
  size_t samples = 0;
};

// One scan of every process's /proc/PID/stat: the links that tell each job's
// tree. Scanning costs a read per process on the machine, so the meters
// sampled at the same moment share one.
class ProcessTable {
 public:
  static ProcessTable scan(const std::filesystem::path& proc = "/proc");

 private:
  friend class ProcTreeMeter;
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

class ProcTreeMeter {
 public:
  explicit ProcTreeMeter(pid_t root, std::filesystem::path proc = "/proc");

  // Reads the tree now and folds it into the running figures.
  TreeSample sample(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  // The same from a table scanned at `now` (of this meter's /proc).
  TreeSample sample(std::chrono::steady_clock::time_point now, const ProcessTable& table);
  // When to sample next: often at first (short jobs), then less, up to once
  // a second; every sample that finds the tree unchanged stretches it.
  std::chrono::steady_clock::time_point next_sample() const { return next_; }
  // The final figures, with the main process's rusage from wait4.
  TreeUsage finish(const struct rusage& main_usage) const;
  // Sends `signal` to every process any sample found in the tree that is
  // still the same process (same start time): a daemon that escaped the
  // job's process group is still the job's if a sample saw it. Returns how
  // many were signalled.
  size_t signal_members(int signal) const;

 private:
  using TimePoint = std::chrono::steady_clock::time_point;

  // Cumulative counters of one process, or of the tree: CPU in clock ticks,
  // I/O as /proc/PID/io counts it.
  struct Counters {
    uint64_t cpu_ticks = 0;
    uint64_t read_bytes = 0, write_bytes = 0, read_calls = 0, write_calls = 0;

    Counters& operator+=(const Counters& other);
    void raise_to(const Counters& other);         // fieldwise max
    Counters minus(const Counters& other) const;  // fieldwise, never below 0
  };
  // What a sample saw of one member of the tree. Counters are the highest
  // seen for this process, so they never go back.
  struct Seen {
    uint64_t start_ticks = 0;  // stat field 22: tells a reused pid from the process we saw
    pid_t ppid = 0;
    Counters total;     // its own figures plus those of the children it reaped
    Counters absorbed;  // the part that can come from reaped children (see proc_tree.cpp)
  };
  using SeenMap = std::unordered_map<pid_t, Seen>;

  SeenMap read_tree(const ProcessTable& table, Bytes& rss) const;
  size_t account_departed(const SeenMap& current);
  void note_rate(TimePoint now);
  void schedule(TimePoint now, bool changed);

  pid_t root_;
  std::filesystem::path proc_;
  long clock_ticks_;  // sysconf(_SC_CLK_TCK): the unit of stat's times
  long page_size_;    // the unit of statm
  TimePoint started_;
  TimePoint next_;
  std::chrono::milliseconds interval_;
  SeenMap seen_;                              // the members of the last sample
  std::unordered_map<pid_t, uint64_t> ever_;  // every member any sample saw: start ticks
  Counters departed_;  // what departed members did that no surviving member absorbed
  Counters total_;     // the tree's running total: never decreases
  std::optional<std::pair<TimePoint, uint64_t>> rate_anchor_;  // when, and total CPU ticks then
  Bytes peak_rss_ = 0;
  double peak_cores_ = 0;
  size_t samples_ = 0;
};

}  // namespace wp::platform
