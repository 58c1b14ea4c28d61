// `wp run`: admit jobs as capacity frees, launch and supervise them, and
// report. One event loop on a signalfd and the jobs' output pipes; no thread
// per job and no sleeping poll.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include "exec/job_control.h"
#include "exec/pressure_watch.h"
#include "exec/status_area.h"
#include "ledger/ledger.h"
#include "manifest/manifest.h"
#include "platform/jobserver.h"
#include "report/ci_format.h"
#include "report/run_report.h"
#include "resources/capacity.h"
#include "sched/scheduler.h"
#include "util/result.h"

namespace wp::exec {

// How the scheduler admits a job when learning has a say: the demand it
// holds, which may differ from the declaration in either direction.
struct Admission {
  Resources demand;
  // The prediction's upper bound of peak memory: a retry after an OOM kill
  // asks for more than this and than the measured peak.
  std::optional<Bytes> memory_upper;
  // Expected run time in seconds, from history; none: unknown.
  std::optional<double> duration;
};

// Told what happens, in the event loop's thread; what it does must be quick.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  // Every dependency of `job` has succeeded, so the files it reads may exist
  // now: a new admission replaces the one it started the run with.
  virtual std::optional<Admission> job_ready(size_t /*job*/) { return std::nullopt; }
  // An attempt ended, for good or to be retried. It was not counted if it
  // never started (spawn_error set).
  virtual void attempt_ended(size_t /*job*/, const report::Attempt& /*attempt*/) {}
};

struct RunOptions {
  bool keep_going = false;                        // keep admitting independent jobs after a failure
  bool quiet = false;                             // no live job output; show failures' log tails
  int job_stdout_fd = 1;                          // where job stdout lines go (stderr when --json)
  std::filesystem::path run_dir;                  // empty: .wp/runs/<run-id>/ by the manifest
  std::chrono::milliseconds grace{5000};          // SIGTERM to SIGKILL
  std::chrono::milliseconds retry_backoff{1000};  // before the first retry
  ControlOptions control;                         // per-job cgroups and limits
  GuardMode memory_guard = GuardMode::Suspend;
  sched::PressureConfig pressure;  // reserve 0: default_pressure_config(capacity)
  // How learning admits a job, by index, when it decided (else unset: the
  // declarations). Asked once a job as the run starts: 100,000 admissions
  // held for the whole run were 6.4 MB.
  std::function<Admission(size_t)> admission;
  RunObserver* observer = nullptr;
  sched::Policy policy;  // strategy and aging
  // The ledger (shared by every wp of this user) in which each job takes a
  // lease before it starts; none: this run alone counts (--ledger off).
  ledger::Ledger* ledger = nullptr;
  // make's jobserver: a token for each running job beyond the first.
  platform::Jobserver* jobserver = nullptr;
  // `wp exec`: the job's stdin, stdout and stderr are wp's own, passed
  // straight through (no prefix, no logs).
  bool passthrough = false;
  // Github and Gitlab: each attempt's output as one block (a group, a
  // collapsible section) when it ends, read from its logs, instead of
  // prefixed lines as they come: in a CI log, lines of parallel jobs
  // interleave. Github also annotates each failed job's [[job]] table.
  report::CiFormat ci_format = report::CiFormat::Plain;
  std::string annotation_file;  // the manifest as annotations name it; empty: its path
  ProgressOptions progress;     // the live status area on the terminal
};

// What the scheduler knows of each job: its admission where learning
// decided (else its declaration), its expected run time: predicted, else
// its timeout (wp ends it by then), else unknown; and its limit: its
// timeout plus `grace` (SIGTERM to SIGKILL), else none.
std::vector<sched::JobDemand> demands_of(const manifest::Manifest& manifest,
                                         const std::function<Admission(size_t)>& admission,
                                         std::chrono::milliseconds grace);

// Runs the manifest to completion or interruption. An Error means nothing
// could be started (e.g. the run directory cannot be created).
Result<report::RunReport> run(const manifest::Manifest& manifest, const Capacity& capacity,
                              const RunOptions& options);

}  // namespace wp::exec
