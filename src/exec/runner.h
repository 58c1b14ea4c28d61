// `wp run`: admit jobs as capacity frees, launch and supervise them, and
// report. One event loop on a signalfd and the jobs' output pipes; no thread
// per job and no sleeping poll.
#pragma once

#include <chrono>
#include <filesystem>

#include "exec/job_control.h"
#include "exec/pressure_watch.h"
#include "manifest/manifest.h"
#include "report/run_report.h"
#include "resources/capacity.h"
#include "util/result.h"

namespace wp::exec {

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
};

// Runs the manifest to completion or interruption. An Error means nothing
// could be started (e.g. the run directory cannot be created).
Result<report::RunReport> run(const manifest::Manifest& manifest, const Capacity& capacity,
                              const RunOptions& options);

}  // namespace wp::exec
