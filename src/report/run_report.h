// What happened in a run: the record the summary, the JSON document and the
// exit status are all made from.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "resources/capacity.h"
#include "resources/quantity.h"

namespace wp::report {

using Clock = std::chrono::system_clock;

enum class JobStatus { Ok, Failed, TimedOut, Skipped, Interrupted };
const char* to_string(JobStatus status);  // "ok", "failed", "timed_out", ...

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

  bool succeeded() const { return exit_code == 0 && !timed_out && spawn_error.empty(); }
  double wall_seconds() const;
  // The log to point a reader at: stderr's, else stdout's; empty if neither.
  const std::filesystem::path& main_log() const {
    return stderr_log.empty() ? stdout_log : stderr_log;
  }
  std::string describe() const;  // "exit 2", "killed by SIGKILL", "timed out (timeout 30s)"
};

struct JobReport {
  std::string name;
  Resources request;
  JobStatus status = JobStatus::Skipped;
  std::string reason;  // why skipped or interrupted; empty otherwise
  std::vector<Attempt> attempts;
};

struct Counts {
  size_t ok = 0, failed = 0, timed_out = 0, skipped = 0, interrupted = 0;
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

  Counts counts() const;
  double wall_seconds() const;
  // 0 all ok; 1 any failed/timed out/skipped; 128+signal when interrupted.
  int exit_code() const;
};

}  // namespace wp::report
