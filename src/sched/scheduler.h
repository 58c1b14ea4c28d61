// Which job starts next. Pure bookkeeping, no processes and no clock of its
// own: the runner (or the simulator) says what time it is and what happened,
// and asks what to start, which is also how the tests drive it.
//
// The ready jobs of one declared priority form a band. Bands are queued by
// rank: the priority times Policy::aging, minus the time the band last
// started the job at its front (or, if it has started none since it last
// had none ready, the time it got one). So a band that waits gains one step
// of priority for every aging interval, starting its first job puts it back
// (one started from further back, by backfill or a packing strategy, does
// not), and a band that has started none for (P - p) intervals goes before
// every band that has started one since. Within a band, jobs go by the longest path of
// expected run time to the end of the graph (critical path, to a hundredth
// of a second), then manifest order: aging never reorders the jobs of one
// priority, so a pipeline's critical path goes first however long other
// jobs of its priority have waited.
// When the head fits, it starts, or (with a packing strategy, until the head
// has waited an aging interval there) another job of its band in the window
// that packs better. While the head does not fit, it
// holds a reservation: the earliest time enough will be free, from the
// expected ends of the running jobs. Other jobs start past it (backfill)
// only if they fit now and are expected to end by then, or use only what the
// head will leave free (EASY backfilling). A head that has waited an aging
// interval at the head trusts expected run times no more than limits
// (timeouts): behind it, a job may take only what it leaves free, or what
// it is expected to give back by the reservation and its limit frees before
// the running jobs' limits surely leave the head what it needs. Once its band
// has also aged to the top, it becomes the claimant: until it starts, no
// other job may take what it needs but on those terms, even one that goes
// before it in the queue since.
// Among the jobs allowed to start, the Strategy chooses.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "resources/quantity.h"
#include "sched/policy.h"
#include "sched/tracker.h"

namespace wp::sched {

// What the scheduler packs into: `capacity` with its cores scaled by the
// policy's CPU overcommit (at least 1).
Resources packing_capacity(const Resources& capacity, const Policy& policy);

// The wait before a job's retry once `tries` of its attempts have failed:
// `backoff`, doubled for every try after the first, at most a minute.
std::chrono::milliseconds retry_delay(std::chrono::milliseconds backoff, int tries);

struct JobDemand {
  std::string name;  // for the reasons given to skipped dependents
  Resources demand;
  int64_t priority = 0;
  std::vector<size_t> after;  // indices of jobs that must succeed first
  // Expected run time in seconds (predicted, or the declared timeout); none:
  // unknown, and such a job backfills only into what the head leaves free
  // (or anywhere while the head's own reservation is unknown, see
  // Scheduler::reservation).
  std::optional<double> duration;
  // The longest an attempt may run, in seconds (its timeout, after which it
  // is stopped); none: no limit. A hard bound where `duration` is a guess:
  // what a claimant trusts (see the top of this file).
  std::optional<double> limit;
};

enum class JobState : uint8_t {
  Waiting,  // dependencies have not all succeeded yet
  Ready,    // queued for admission
  Running,  // admitted: holds its demand in the tracker
  Backoff,  // failed an attempt, will be queued again for a retry
  Succeeded,
  Failed,
  Skipped,  // never (re)started: see reason()
};

// The head of the queue's claim while it does not fit.
struct Reservation {
  size_t job = 0;
  // When enough is expected to be free; infinity when that depends on a job
  // whose duration is unknown.
  double start = 0;
  Resources spare;  // what will be free then beyond the job's demand
};

class Scheduler {
 public:
  static constexpr double kNever = std::numeric_limits<double>::infinity();

  // Keeps what it needs of `jobs`, not the vector.
  Scheduler(const std::vector<JobDemand>& jobs, Resources capacity, Policy policy = {});

  // Seconds since the run began; never goes back. Aging, reservations and
  // the expected ends of started jobs are reckoned from it.
  void set_now(double seconds);
  double now() const { return now_; }

  // Admits the job the policy chooses among those allowed to start now; its
  // demand is held until finished() or retry_later(). One at a time, so that
  // a stop() after a start takes effect at once.
  // With `limit`, only what also fits in it: the room another party (the
  // ledger of this user's wp processes) leaves this run.
  std::optional<size_t> admit_next(const Resources* limit = nullptr);
  // False when admit_next() would surely admit nothing: no ready job, or not
  // even the smallest demand fits what is free. Costs one comparison.
  bool could_admit() const { return !queue_.empty() && smallest_.fits_in(tracker_.free()); }
  // The job at the head of the queue, if any.
  std::optional<size_t> head() const;
  // The job nothing may take the room of: the claimant (see above) while
  // there is one, else the head. What a run waits for room for.
  std::optional<size_t> next_in_line() const;
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
  // The reason for stop() when `job` has failed for good and the run does
  // not keep going.
  static std::string failure_stop_reason(std::string_view job);

  bool all_done() const { return unfinished_ == 0; }
  bool stopped() const { return stopped_; }
  JobState state(size_t job) const { return jobs_[job].state; }
  const std::string& reason(size_t job) const { return reasons_[jobs_[job].reason]; }
  const ResourceTracker& tracker() const { return tracker_; }
  const Policy& policy() const { return policy_; }

  // Expected seconds from the start of `job` to the end of the last job that
  // depends on it, through its longest chain of dependents. Unknown
  // durations count as the median of the known ones (1 s if none is known).
  double critical_path(size_t job) const { return jobs_[job].path; }
  // The head's reservation, when the head does not fit now.
  std::optional<Reservation> reservation() const;

 private:
  // A job's place in its band.
  struct QueueKey {
    double path;  // critical path, in steps (path_order)
    size_t job;   // manifest order
  };
  struct QueueOrder {
    bool operator()(const QueueKey& a, const QueueKey& b) const;
  };
  using JobQueue = std::set<QueueKey, QueueOrder>;
  // The ready jobs of one declared priority; queued while it has any.
  struct Band {
    int64_t priority = 0;
    long double rank = 0;  // see the top of this file; the higher goes first
    JobQueue jobs;
  };
  struct BandOrder {
    bool operator()(const Band* a, const Band* b) const;
  };
  using BandQueue = std::set<Band*, BandOrder>;
  // A place in the queue: a job of a band, or the end (no band).
  struct Cursor {
    BandQueue::const_iterator band;
    JobQueue::const_iterator job;
    size_t id() const { return job->job; }
  };
  // What an entry keeps of its JobDemand: its name is in names_, and
  // `after` is read once, into the dependents lists. Entries of 100,000 jobs
  // held a copy of each.
  struct Spec {
    Resources demand;
    int64_t priority = 0;
    std::optional<double> duration;
    std::optional<double> limit;
  };
  // 128 bytes: the largest part of a plan of 100,000 jobs after the jobs.
  struct Entry {
    Spec spec;
    JobState state = JobState::Waiting;
    bool started = false;  // has had at least one attempt
    uint32_t reason = 0;   // into reasons_
    size_t unmet = 0;      // dependencies not yet succeeded
    std::vector<size_t> dependents;
    double path = 0;        // critical path
    double started_at = 0;  // while running: when it started
  };

  void compute_paths(const std::vector<JobDemand>& jobs);
  QueueKey key_of(size_t job) const;
  long double rank_of(int64_t priority, double since) const;
  Cursor queue_begin() const;
  Cursor queue_end() const { return {queue_.end(), {}}; }
  bool at_end(const Cursor& at) const { return at.band == queue_.end(); }
  void advance(Cursor& at) const;
  Cursor find(size_t job);
  void make_ready(size_t job);
  void unqueue(size_t job);
  // Takes a band that has no job left out of the queue.
  void drop_band(Band* band);
  void note_head();
  // The head has been the head for less than an aging interval.
  bool head_patient() const;
  void start(Cursor at);
  Cursor choose(Cursor head, const Resources& free);
  Cursor choose_backfill(Cursor head, const Resources& free);
  template <typename Allowed>
  Cursor pick(Cursor from, size_t looked, const Resources& free, Allowed allowed);
  // The claimant, if it fits, else a job that leaves it what it needs.
  Cursor choose_around_claimant(const Resources& free);
  void claim_if_waited(double at);
  // When `head`, which does not fit in `free`, is expected to (see
  // Reservation), as the running jobs end and give their demand back.
  Reservation reserve(size_t head, const Resources& free) const;
  // The same from the running jobs' limits: when enough will surely be free.
  Reservation reserve_surely(size_t head, const Resources& free) const;
  Reservation reserve_from(size_t head, const Resources& free,
                           const std::set<std::pair<double, size_t>>& ends) const;
  double expected_end(const Entry& e) const;
  double limit_end(const Entry& e) const;
  bool ends_in_time(const Entry& e, double expected, std::optional<double> surely) const;
  double score(const Resources& demand, const Resources& free) const;
  void skip(size_t job, const std::string& reason);
  void skip_dependents(size_t job, const std::string& reason);
  std::string_view name(size_t job) const;

  std::vector<Entry> jobs_;
  // Every job's name end to end, job i's ending at name_ends_[i]: for the
  // reasons given to skipped dependents. As 100,000 strings they took 3.2 MB.
  std::string names_;
  std::vector<uint32_t> name_ends_;
  // Why jobs were skipped; the first is none. One stop() or failure skips
  // many jobs for one reason, which is kept once.
  std::vector<std::string> reasons_{std::string()};
  // By priority; those with no job ready stay, out of the queue.
  std::map<int64_t, Band> bands_;
  BandQueue queue_;                                     // the bands with jobs ready, by rank
  int64_t top_priority_ = 0;                            // the highest declared
  std::set<std::pair<double, size_t>> running_;         // (expected end, job)
  std::set<std::pair<double, size_t>> running_limits_;  // (end at its limit, job), if it has one
  ResourceTracker tracker_;
  Policy policy_;
  // The job at the head of the queue and since when, without a break: an
  // aging interval from then, it claims.
  size_t head_job_ = SIZE_MAX;
  double head_since_ = 0;
  // A head that waited an aging interval there with its band aged to the
  // top, until it starts: its claim outlives being overtaken. SIZE_MAX: none.
  size_t claimant_ = SIZE_MAX;
  Resources smallest_;  // the least any job asks for, in each dimension
  double now_ = 0;
  size_t unfinished_ = 0;
  bool stopped_ = false;
};

}  // namespace wp::sched
