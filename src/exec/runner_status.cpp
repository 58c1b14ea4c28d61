// The runner's side of the live status area: what the run looks like now,
// for report::render_progress(), and when to draw it.
#include <algorithm>

#include "exec/runner_internal.h"
#include "sched/eta.h"

namespace wp::exec::detail {
namespace {

double seconds_between(SteadyTime from, SteadyTime to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

// A new picture when one is due; else the one output took off, again.
void Runner::update_status(SteadyTime now) {
  if (!status_) return;
  if (status_->due(now)) {
    status_->show(report::render_progress(progress_snapshot(now), status_->style()), now);
  } else {
    status_->restore();
  }
}

std::optional<double> Runner::predicted(size_t job) const {
  if (job >= predicted_.size() || predicted_[job] < 0) return std::nullopt;
  return predicted_[job];
}

report::ProgressSnapshot Runner::progress_snapshot(SteadyTime now) const {
  report::ProgressSnapshot snapshot;
  for (size_t i = 0; i < manifest_.jobs.size(); ++i) {
    switch (scheduler_.state(i)) {
      case sched::JobState::Waiting:
      case sched::JobState::Ready:
      case sched::JobState::Backoff:
        ++snapshot.queued;
        break;
      case sched::JobState::Running:
        ++snapshot.running;
        break;
      case sched::JobState::Succeeded:
        ++snapshot.done;
        break;
      case sched::JobState::Failed:
        ++snapshot.failed;
        break;
      case sched::JobState::Skipped:
        ++snapshot.skipped;
        break;
    }
  }
  snapshot.in_use = scheduler_.tracker().in_use();
  snapshot.capacity = report_.capacity.total;
  std::vector<const Active*> running;
  running.reserve(active_.size());
  for (const auto& [pid, active] : active_)
    running.push_back(active.get());
  // The longest running first: the ones a user waits for.
  std::sort(running.begin(), running.end(), [](const Active* a, const Active* b) {
    return a->started != b->started ? a->started < b->started : a->job < b->job;
  });
  for (const Active* active : running) {
    snapshot.jobs.push_back({manifest_.jobs[active->job].name,
                             seconds_between(active->started, now), predicted(active->job),
                             active->suspended_at.has_value()});
  }
  snapshot.elapsed = seconds_between(began_, now);
  snapshot.eta = eta(now);
  return snapshot;
}

// sched::estimate_remaining() over the jobs not done, when every one of
// them has a prediction: a job of unknown length makes any figure a guess.
std::optional<double> Runner::eta(SteadyTime now) const {
  std::vector<sched::RemainingJob> left;
  auto add = [&](size_t job, double elapsed) {
    std::optional<double> expected = predicted(job);
    if (!expected) return false;
    // critical_path() runs from the job's start through its dependents.
    double after = std::max(0.0, scheduler_.critical_path(job) - *expected);
    left.push_back({scheduler_.demand(job), std::max(0.0, *expected - elapsed), after});
    return true;
  };
  for (const auto& [pid, active] : active_) {
    if (!add(active->job, seconds_between(active->started, now))) return std::nullopt;
  }
  for (size_t i = 0; i < manifest_.jobs.size(); ++i) {
    sched::JobState state = scheduler_.state(i);
    bool pending = state == sched::JobState::Waiting || state == sched::JobState::Ready ||
                   state == sched::JobState::Backoff;
    if (pending && !add(i, 0)) return std::nullopt;
  }
  return sched::estimate_remaining(left, report_.capacity.total);
}

}  // namespace wp::exec::detail
