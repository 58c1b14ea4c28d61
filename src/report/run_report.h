// What happened in a run: the record the summary, the JSON document and the
// exit status are all made from.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "resources/capacity.h"
#include "resources/quantity.h"

namespace wp::report {

using Clock = std::chrono::system_clock;

enum class JobStatus { Ok, Failed, TimedOut, Skipped, Interrupted };
const char* to_string(JobStatus status);  // "ok", "failed", "timed_out", ...

// What an attempt really used: its whole process tree, processes that had
// already exited included. nullopt: not measured by this method here.
struct Usage {
  // "cgroup v2", "cgroup v1", "cgroup hybrid" (v1 memory and blkio, cgroup2
  // CPU time), or "procfs" (the tree sampled from /proc, when wp may not
  // create cgroups); empty when the attempt never ran.
  std::string method;
  std::optional<Bytes> peak_memory;
  std::optional<double> cpu_seconds;  // user + system
  std::optional<double> user_seconds;
  std::optional<double> system_seconds;
  std::optional<double> average_cores;  // cpu_seconds / wall time
  std::optional<double> peak_cores;     // highest rate between two samples
  // Device operations and bytes (cgroup methods). procfs has no operation
  // count: read_calls/write_calls are read/write system calls instead.
  std::optional<uint64_t> read_ops;
  std::optional<uint64_t> write_ops;
  std::optional<uint64_t> read_bytes;
  std::optional<uint64_t> write_bytes;
  std::optional<uint64_t> read_calls;
  std::optional<uint64_t> write_calls;
  bool oom_killed = false;  // the kernel's OOM killer ended a process of the job
};

// The limits an attempt's cgroup enforced (--enforce).
struct Limits {
  std::optional<Bytes> memory;
  std::optional<Cores> cpu;
  std::optional<uint64_t> iops;
};

struct Attempt {
  int number = 1;
  Clock::time_point started;
  Clock::time_point ended;
  std::optional<int> exit_code;  // set when the process exited
  std::optional<int> signal;     // set when a signal ended it
  bool timed_out = false;
  std::chrono::milliseconds timeout{0};  // the limit it ran into, when timed_out
  bool interrupted = false;              // stopped because wp was interrupted
  std::string spawn_error;               // set when the process could not start
  std::filesystem::path stdout_log;      // empty when the attempt wrote nothing there
  std::filesystem::path stderr_log;
  Usage usage;
  Limits limits;
  Resources admitted;     // what the scheduler held for it (the declaration, or a prediction)
  bool requeued = false;  // killed by the memory-pressure guard and put back in the queue
  // Ended by an OOM kill and retried with more memory without counting
  // against `retries` (once a job).
  bool memory_retry = false;
  int suspensions = 0;  // times the memory-pressure guard stopped it

  bool succeeded() const { return exit_code == 0 && !timed_out && spawn_error.empty(); }
  double wall_seconds() const;
  // The log to point a reader at: stderr's, else stdout's; empty if neither.
  const std::filesystem::path& main_log() const {
    return stderr_log.empty() ? stdout_log : stderr_log;
  }
  // "exit 2", "killed by SIGKILL", "timed out (timeout 30s)",
  // "exceeded memory: limit 1.0 GiB, peak 1.0 GiB (OOM)"
  std::string describe() const;
  bool exceeded_memory() const { return usage.oom_killed && limits.memory.has_value(); }
};

// A job's attempts, oldest first, kept encoded and decoded when read: as
// Attempt structs, mostly figures and paths a job never sets, the attempts
// of 100,000 jobs took 50 MiB of the run's memory; encoded, a third.
class AttemptList {
 public:
  class Iterator {
   public:
    using value_type = Attempt;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::input_iterator_tag;

    Iterator() = default;
    Attempt operator*() const;
    Iterator& operator++();
    bool operator==(const Iterator& other) const { return offset_ == other.offset_; }

   private:
    friend class AttemptList;
    Iterator(const std::string* bytes, size_t offset) : bytes_(bytes), offset_(offset) {}
    const std::string* bytes_ = nullptr;
    size_t offset_ = 0;
  };

  void push_back(const Attempt& attempt);
  size_t size() const;
  bool empty() const { return bytes_.empty(); }
  Attempt front() const { return *begin(); }
  Attempt back() const;
  Iterator begin() const { return Iterator(&bytes_, 0); }
  Iterator end() const { return Iterator(&bytes_, bytes_.size()); }

 private:
  std::string bytes_;  // each attempt: its length, then its fields
};

struct JobReport {
  std::string name;
  Resources request;
  JobStatus status = JobStatus::Skipped;
  std::string reason;  // why skipped or interrupted; empty otherwise
  AttemptList attempts;
};

struct Counts {
  size_t ok = 0, failed = 0, timed_out = 0, skipped = 0, interrupted = 0;
};

// What the memory-pressure guard did in a run.
struct PressureCounts {
  size_t holds = 0;        // times admission was paused
  size_t suspensions = 0;  // jobs stopped
  size_t resumes = 0;
  size_t requeues = 0;  // jobs killed and put back in the queue
};

// A job that used clearly more than its history says it does.
struct Regression {
  std::string job;
  std::string resource;  // "peak memory" or "wall time"
  double value = 0;      // bytes or seconds
  double median = 0;     // of the earlier runs compared with
  size_t samples = 0;    // how many
  // "build: peak memory 3.1 GiB, +48% vs median of last 20"
  std::string describe() const;
};

struct RunReport {
  std::string run_id;
  std::filesystem::path manifest;
  std::filesystem::path run_dir;
  Clock::time_point started;
  Clock::time_point ended;
  Capacity capacity;
  std::vector<JobReport> jobs;
  std::optional<int> interrupted_by;  // the signal that stopped the run
  std::string measurement;  // how jobs were measured: "cgroup v1 (...) under ...", "procfs: why"
  std::string enforcement;  // "memory (limit = admitted x 1.25)", "none", ...
  PressureCounts pressure;
  std::string learning;  // "auto: 3 of 5 jobs admitted by prediction", "off", ...
  std::vector<Regression> regressions;

  Counts counts() const;
  double wall_seconds() const;
  // 0 all ok; 1 any failed/timed out/skipped; 128+signal when interrupted.
  int exit_code() const;
};

}  // namespace wp::report
