// The runner's insides, shared by the files that implement it (runner.cpp:
// the event loop, launching and reaping; runner_guard.cpp: sampling jobs and
// the memory-pressure guard's actions). Not part of the library's interface.
#pragma once

#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "exec/attempt_meter.h"
#include "exec/job_control.h"
#include "exec/launch.h"
#include "exec/output.h"
#include "exec/pressure_watch.h"
#include "exec/run_dir.h"
#include "exec/runner.h"
#include "exec/status_area.h"
#include "platform/process.h"
#include "platform/sentinel.h"
#include "platform/signals.h"
#include "platform/terminal.h"
#include "report/progress.h"
#include "report/run_report.h"
#include "sched/gpu_pool.h"
#include "sched/scheduler.h"
#include "util/log.h"
#include "util/unique_fd.h"

namespace wp::exec::detail {

using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;
using report::Attempt;
using report::JobStatus;

constexpr size_t kQuietTailLines = 20;
constexpr int kMaxDrainChunks = 1024;  // of 64 KiB: far more than a pipe holds
// A scan of /proc reads every process's stat: ten a second at most, shared
// by every job measured from /proc, whatever their own schedules ask.
constexpr std::chrono::milliseconds kProcScanSpacing{100};

// Where a stream's log goes, named when the first byte comes.
struct LogName {
  const RunDir* dir = nullptr;
  const std::string* stem = nullptr;
  int attempt = 0;
  const char* kind = "";  // "out" or "err"
};

// One stream of a running attempt: the pipe wp reads, the log it writes.
// The log file is created with the first byte: a job that writes nothing
// costs no file (thousands of small jobs are mostly silent), nor its path.
struct Stream {
  enum class Log { NotYet, Open, Failed };

  Stream(LogName name, std::string prefix, int terminal_fd)
      : log_name(name), lines(std::move(prefix), terminal_fd) {}

  UniqueFd pipe;
  LogName log_name;
  std::filesystem::path log_path;  // once the log is created
  UniqueFd log;
  Log state = Log::NotYet;  // once Failed, never reopened: O_TRUNC would erase it
  bool created = false;     // the file exists
  LinePrefixer lines;
};

struct Active {
  Active(size_t job_index, Stream out_stream, Stream err_stream, Attempt record)
      : job(job_index),
        out(std::move(out_stream)),
        err(std::move(err_stream)),
        attempt(std::move(record)) {}

  size_t job;
  pid_t pid = -1;
  std::optional<platform::Spawned> process;  // holds what the child reads until it execs
  Stream out;
  Stream err;
  SteadyTime started = SteadyClock::now();
  std::optional<SteadyTime> deadline;  // the job's timeout
  std::optional<SteadyTime> kill_at;   // SIGKILL when the grace ends
  std::vector<int> gpus;               // device indices it was given
  Attempt attempt;
  std::optional<AttemptMeter> meter;       // its cgroup or /proc sampler
  std::optional<SteadyTime> suspended_at;  // stopped by the memory-pressure guard
  bool oom_stopped = false;                // ended after an OOM kill inside it (cgroup v1)
};

// A job the runner reaped and has yet to account for (Runner::finish_reaped).
struct Reaped {
  std::unique_ptr<Active> active;
  int status = 0;
  struct rusage usage {};
  bool released = false;     // its resources are back (Runner::release_early)
  bool interrupted = false;  // the run was being interrupted when it was reaped
};

class Runner {
 public:
  Runner(const manifest::Manifest& manifest, const Capacity& capacity, const RunOptions& options,
         RunDir run_dir, JobControl control, platform::Sentinel sentinel,
         platform::SignalChannel signals, report::RunReport report);
  report::RunReport run();

 private:
  void start_admitted();
  std::optional<size_t> admit_one();
  std::optional<size_t> admit_by_ledger(ledger::Ledger& ledger);
  bool take_token();
  void settle_tokens();
  void tell_time();
  void start(size_t job);
  Status launch(Active& active);
  void fail_to_start(Active& active, const std::string& message);
  void write_log(Stream& stream, std::string_view data);
  void wait_for_events();
  std::optional<SteadyTime> next_timer() const;
  void on_signal(int sig);
  void reap_children();
  void on_stop(pid_t pid);
  bool release_early(Active& active, int status);
  void finish_reaped();
  void on_exit(Reaped& ended);
  void drain_output(Active& active);
  void say_ok(size_t job, const Attempt& attempt);
  bool only_known_children() const;
  void sample_jobs(SteadyTime now);
  SteadyTime next_sample(const Active& active) const;
  void check_pressure(SteadyTime now);
  void act_on_youngest();
  void resume_oldest_suspended(bool eased);
  void suspend(Active& active, bool stopped);
  int counted_attempts(size_t job) const;
  std::optional<Bytes> memory_for_retry(size_t job, const Attempt& attempt) const;
  void refresh_dependents(size_t job);
  enum class ReadResult { Data, Empty, Closed };
  ReadResult read_stream(Stream& stream);
  void fire_timers();
  void conclude(size_t job, Attempt last, bool released = false);
  void fail_finally(size_t job, const Attempt& attempt);
  void interrupt(int sig);
  void update_status(SteadyTime now);
  report::ProgressSnapshot progress_snapshot(SteadyTime now) const;
  std::optional<double> predicted(size_t job) const;
  std::optional<double> eta(SteadyTime now) const;
  bool live_lines() const {
    return !options_.quiet && options_.ci_format == report::CiFormat::Plain;
  }
  // runner_ci.cpp: the block of an attempt's output, the annotation of a failure.
  void show_block(size_t job, const Attempt& attempt);
  void annotate_failure(size_t job, const Attempt& attempt);
  int attempts_allowed(size_t job) const { return manifest_.jobs[job].retries + 1; }
  const std::string& stem(size_t job) const;

  const manifest::Manifest& manifest_;
  const RunOptions& options_;
  RunDir run_dir_;
  JobControl control_;
  std::optional<platform::Sentinel> sentinel_;
  platform::SignalChannel signals_;
  // `wp exec` run as a shell's foreground job: the terminal the job is
  // given while it runs (platform/terminal.h), and Ctrl-Z's stops to follow.
  std::optional<platform::Foreground> foreground_;
  report::RunReport report_;
  sched::Scheduler scheduler_;
  std::vector<bool> memory_retried_;  // by job: has had its automatic OOM retry
  // By job, when learning decided: the upper bound of its predicted peak
  // memory as the run started (Admission::memory_upper), 0 for none.
  std::vector<Bytes> memory_upper_;
  sched::GpuPool gpu_pool_;
  std::shared_ptr<spdlog::logger> log_;
  // The file-name stems of its logs that differ from a job's name (see
  // RunDir::other_stems): a copy of every name took 3.2 MB for 100,000 jobs.
  std::unordered_map<size_t, std::string> other_stems_;
  EnvMap inherited_env_;
  std::string path_var_;
  ExecutableCache executables_;
  // Shared by every spawn: the jobs' stdin, and the signals wp does not
  // leave at their default (read once, after SignalChannel::open).
  UniqueFd dev_null_;
  sigset_t default_signals_{};
  platform::ThreadChildren children_;  // this thread's, which spawns every job
  std::unordered_map<pid_t, std::unique_ptr<Active>> active_;
  std::vector<Reaped> reaped_;  // in the order reaped
  // Jobs waiting out a retry backoff, earliest first.
  using Backoff = std::pair<SteadyTime, size_t>;
  std::priority_queue<Backoff, std::vector<Backoff>, std::greater<>> backoff_;
  int interrupted_by_ = 0;
  PressureWatch pressure_;
  bool admission_open_ = true;  // the memory-pressure guard's say
  bool token_wanted_ = false;   // a job waits for a token from make's jobserver
  bool said_waiting_ = false;   // told the user this run waits on other wp processes
  sched::PressureLevel pressure_level_ = sched::PressureLevel::Normal;
  SteadyTime next_proc_scan_{};            // jobs measured from /proc: not before this
  SteadyTime began_ = SteadyClock::now();  // the scheduler's time zero
  // The live status area, when drawn, and each job's expected run time for
  // it (negative: none), kept only then: 100,000 of them are 800 kB.
  std::optional<StatusArea> status_;
  std::vector<double> predicted_;
};

}  // namespace wp::exec::detail
