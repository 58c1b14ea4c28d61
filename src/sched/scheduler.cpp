#include "sched/scheduler.h"

#include <algorithm>
#include <cassert>

namespace wp::sched {
namespace {

Resources min_each(const Resources& a, const Resources& b) {
  return Resources{std::min(a.cpu, b.cpu), std::min(a.memory, b.memory), std::min(a.iops, b.iops),
                   std::min(a.gpu, b.gpu)};
}

}  // namespace

Scheduler::Scheduler(std::vector<JobDemand> jobs, Resources capacity) : tracker_(capacity) {
  jobs_.resize(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    jobs_[i].spec = std::move(jobs[i]);
    jobs_[i].unmet = jobs_[i].spec.after.size();
    for (size_t dep : jobs_[i].spec.after)
      jobs_[dep].dependents.push_back(i);
  }
  unfinished_ = jobs_.size();
  for (size_t i = 0; i < jobs_.size(); ++i) {
    if (jobs_[i].unmet == 0) make_ready(i);
    smallest_ = i == 0 ? jobs_[i].spec.demand : min_each(smallest_, jobs_[i].spec.demand);
  }
}

void Scheduler::make_ready(size_t job) {
  Entry& e = jobs_[job];
  e.state = JobState::Ready;
  ready_.insert({e.spec.priority, job});
}

bool Scheduler::QueueOrder::operator()(const QueueKey& a, const QueueKey& b) const {
  if (a.first != b.first) return a.first > b.first;  // higher priority first
  return a.second < b.second;                        // then manifest order
}

void Scheduler::set_demand(size_t job, const Resources& demand) {
  Entry& e = jobs_[job];
  assert(e.state != JobState::Running);
  e.spec.demand = demand;
  // A smaller demand lowers the floor admit_next() stops at; a larger one
  // leaves it low, which only costs a scan.
  smallest_ = min_each(smallest_, demand);
}

std::optional<size_t> Scheduler::admit_next() {
  Resources free = tracker_.free();
  // Once not even the smallest demand of every dimension fits, no job can:
  // a saturated machine costs one comparison per event, not a queue scan.
  if (!smallest_.fits_in(free)) return std::nullopt;
  for (auto it = ready_.begin(); it != ready_.end(); ++it) {
    size_t job = it->second;
    Entry& e = jobs_[job];
    if (!e.spec.demand.fits_in(free)) continue;
    tracker_.acquire(e.spec.demand);
    e.state = JobState::Running;
    e.started = true;
    ready_.erase(it);
    return job;
  }
  return std::nullopt;
}

std::vector<size_t> Scheduler::admit() {
  std::vector<size_t> started;
  while (std::optional<size_t> job = admit_next())
    started.push_back(*job);
  return started;
}

void Scheduler::finished(size_t job, bool succeeded) {
  Entry& e = jobs_[job];
  assert(e.state == JobState::Running);
  tracker_.release(e.spec.demand);
  --unfinished_;
  if (!succeeded) {
    e.state = JobState::Failed;
    skip_dependents(job, "dependency '" + e.spec.name + "' failed");
    return;
  }
  e.state = JobState::Succeeded;
  for (size_t dependent : e.dependents) {
    Entry& d = jobs_[dependent];
    if (d.state != JobState::Waiting) continue;
    // stop() has already skipped every waiting job, so none is left here then.
    if (--d.unmet == 0) make_ready(dependent);
  }
}

void Scheduler::retry_later(size_t job) {
  Entry& e = jobs_[job];
  assert(e.state == JobState::Running);
  tracker_.release(e.spec.demand);
  e.state = JobState::Backoff;
}

void Scheduler::requeue(size_t job) {
  if (jobs_[job].state == JobState::Backoff) make_ready(job);
}

void Scheduler::skip(size_t job, const std::string& reason) {
  Entry& e = jobs_[job];
  if (e.state == JobState::Ready) ready_.erase({e.spec.priority, job});
  e.state = JobState::Skipped;
  e.reason = reason;
  --unfinished_;
}

void Scheduler::skip_dependents(size_t job, const std::string& reason) {
  // Iterative: a long chain of dependents must not exhaust the stack.
  std::vector<size_t> pending{job};
  while (!pending.empty()) {
    size_t current = pending.back();
    pending.pop_back();
    for (size_t dependent : jobs_[current].dependents) {
      if (jobs_[dependent].state != JobState::Waiting) continue;
      skip(dependent, reason);
      pending.push_back(dependent);
    }
  }
}

void Scheduler::stop(const std::string& reason, bool cancel_retries) {
  stopped_ = true;
  for (size_t i = 0; i < jobs_.size(); ++i) {
    Entry& e = jobs_[i];
    bool never_started = !e.started && (e.state == JobState::Waiting || e.state == JobState::Ready);
    bool pending_retry = e.started && (e.state == JobState::Ready || e.state == JobState::Backoff);
    if (never_started || (cancel_retries && pending_retry)) skip(i, reason);
  }
}

}  // namespace wp::sched
