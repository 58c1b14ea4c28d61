// Which job starts next. Pure bookkeeping, no processes and no clock: the
// runner reports what happened and asks what to start, which is also how the
// tests drive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "resources/quantity.h"
#include "sched/tracker.h"

namespace wp::sched {

struct JobDemand {
  std::string name;  // for the reasons given to skipped dependents
  Resources demand;
  int64_t priority = 0;
  std::vector<size_t> after;  // indices of jobs that must succeed first
};

enum class JobState {
  Waiting,  // dependencies have not all succeeded yet
  Ready,    // queued for admission
  Running,  // admitted: holds its demand in the tracker
  Backoff,  // failed an attempt, will be queued again for a retry
  Succeeded,
  Failed,
  Skipped,  // never (re)started: see reason()
};

class Scheduler {
 public:
  Scheduler(std::vector<JobDemand> jobs, Resources capacity);

  // Admits the first ready job in queue order (priority, then manifest
  // order) that fits; its demand is held until finished() or retry_later().
  // One at a time, so that a stop() after a start takes effect at once.
  std::optional<size_t> admit_next();
  // Every job admit_next() would admit now, in order.
  std::vector<size_t> admit();

  // A running job ended for good. On failure, its dependents are skipped.
  void finished(size_t job, bool succeeded);
  // A running job failed an attempt and will be retried: it releases its
  // demand and waits in Backoff until requeue().
  void retry_later(size_t job);
  void requeue(size_t job);

  // A new demand for a job that does not hold one (waiting, ready or in
  // backoff): a prediction made once its inputs exist, or more memory for a
  // retry after an OOM kill.
  void set_demand(size_t job, const Resources& demand);
  const Resources& demand(size_t job) const { return jobs_[job].spec.demand; }
  const std::vector<size_t>& dependents(size_t job) const { return jobs_[job].dependents; }

  // Nothing new starts from now on: jobs that never started are skipped with
  // `reason`. Retries of started jobs still run unless `cancel_retries`.
  void stop(const std::string& reason, bool cancel_retries);

  bool all_done() const { return unfinished_ == 0; }
  bool stopped() const { return stopped_; }
  JobState state(size_t job) const { return jobs_[job].state; }
  const std::string& reason(size_t job) const { return jobs_[job].reason; }
  const ResourceTracker& tracker() const { return tracker_; }

 private:
  struct Entry {
    JobDemand spec;
    JobState state = JobState::Waiting;
    size_t unmet = 0;      // dependencies not yet succeeded
    bool started = false;  // has had at least one attempt
    std::vector<size_t> dependents;
    std::string reason;
  };
  // Queue key: priority and manifest index. The order compares instead of
  // negating, since -INT64_MIN does not exist.
  using QueueKey = std::pair<int64_t, size_t>;
  struct QueueOrder {
    bool operator()(const QueueKey& a, const QueueKey& b) const;
  };

  void make_ready(size_t job);
  void skip(size_t job, const std::string& reason);
  void skip_dependents(size_t job, const std::string& reason);

  std::vector<Entry> jobs_;
  std::set<QueueKey, QueueOrder> ready_;
  ResourceTracker tracker_;
  Resources smallest_;  // the least any job asks for, in each dimension
  size_t unfinished_ = 0;
  bool stopped_ = false;
};

}  // namespace wp::sched
