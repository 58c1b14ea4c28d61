#include "report/run_report.h"

#include <csignal>

#include <fmt/format.h>

#include "platform/process.h"

namespace wp::report {
namespace {

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

const char* to_string(JobStatus status) {
  switch (status) {
    case JobStatus::Ok:
      return "ok";
    case JobStatus::Failed:
      return "failed";
    case JobStatus::TimedOut:
      return "timed_out";
    case JobStatus::Skipped:
      return "skipped";
    case JobStatus::Interrupted:
      return "interrupted";
  }
  return "unknown";
}

double Attempt::wall_seconds() const {
  return seconds_between(started, ended);
}

std::string Attempt::describe() const {
  if (!spawn_error.empty()) return spawn_error;
  if (timed_out) return fmt::format("timed out (timeout {})", format_duration(timeout));
  if (interrupted) return "interrupted";
  if (exceeded_memory()) {
    return fmt::format("exceeded memory: limit {}, peak {} (OOM)", format_bytes(*limits.memory),
                       usage.peak_memory ? format_bytes(*usage.peak_memory) : "unknown");
  }
  if (usage.oom_killed && signal == SIGKILL) return "killed by the kernel's OOM killer (SIGKILL)";
  if (signal) return fmt::format("killed by {}", platform::signal_name(*signal));
  if (exit_code) return fmt::format("exit {}", *exit_code);
  return "unknown";
}

Counts RunReport::counts() const {
  Counts c;
  for (const JobReport& job : jobs) {
    switch (job.status) {
      case JobStatus::Ok:
        ++c.ok;
        break;
      case JobStatus::Failed:
        ++c.failed;
        break;
      case JobStatus::TimedOut:
        ++c.timed_out;
        break;
      case JobStatus::Skipped:
        ++c.skipped;
        break;
      case JobStatus::Interrupted:
        ++c.interrupted;
        break;
    }
  }
  return c;
}

double RunReport::wall_seconds() const {
  return seconds_between(started, ended);
}

int RunReport::exit_code() const {
  if (interrupted_by) return 128 + *interrupted_by;
  Counts c = counts();
  return c.failed + c.timed_out + c.skipped + c.interrupted == 0 ? 0 : 1;
}

std::string Regression::describe() const {
  bool memory = resource == "peak memory";
  auto figure = [memory](double v) {
    return memory ? format_bytes(static_cast<Bytes>(v)) : format_seconds(v);
  };
  double change = median > 0 ? (value / median - 1.0) * 100.0 : 0.0;
  return fmt::format("{}: {} {}, {:+.0f}% vs median of last {}", job, resource, figure(value),
                     change, samples);
}

}  // namespace wp::report
