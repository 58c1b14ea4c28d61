#include "sched/scheduler.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace wp::sched {
namespace {

Resources min_each(const Resources& a, const Resources& b) {
  return Resources{std::min(a.cpu, b.cpu), std::min(a.memory, b.memory), std::min(a.iops, b.iops),
                   std::min(a.gpu, b.gpu)};
}

// a - b in each dimension, 0 where b is larger.
Resources saturating_minus(const Resources& a, const Resources& b) {
  auto minus = [](auto x, auto y) { return x > y ? x - y : decltype(x){0}; };
  return Resources{Cores::from_millis(std::max<int64_t>(a.cpu.millis() - b.cpu.millis(), 0)),
                   minus(a.memory, b.memory), minus(a.iops, b.iops), minus(a.gpu, b.gpu)};
}

// Critical paths are told apart in steps of a hundredth of a second, the
// resolution of a predicted run time: jobs that differ by less, a batch of
// millisecond jobs whose predictions are noise, keep manifest order. Their
// attempts are then recorded in the order their profiles were, which cut
// the recorder's writes from 103,000 to 46,000 with thirty runs of history
// of 10,000 such jobs (each had gone to a page of its own, in a random
// order).
constexpr double kPathSteps = 100;  // a second

double path_order(double path) {
  return std::round(path * kPathSteps);
}

double median(std::vector<double> values) {
  auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

}  // namespace

std::string_view to_string(Strategy strategy) {
  switch (strategy) {
    case Strategy::FirstFit:
      return "first-fit";
    case Strategy::BestFit:
      return "best-fit";
    case Strategy::WorstFit:
      return "worst-fit";
    case Strategy::Alignment:
      return "alignment";
  }
  return "first-fit";
}

std::optional<Strategy> parse_strategy(std::string_view text) {
  for (Strategy strategy : kStrategies) {
    if (to_string(strategy) == text) return strategy;
  }
  return std::nullopt;
}

Resources packing_capacity(const Resources& capacity, const Policy& policy) {
  Resources packed = capacity;
  double factor = std::max(policy.cpu_overcommit, 1.0);
  packed.cpu = Cores::from_double(capacity.cpu.as_double() * factor);
  return packed;
}

Scheduler::Scheduler(const std::vector<JobDemand>& jobs, Resources capacity, Policy policy)
    : tracker_(packing_capacity(capacity, policy)), policy_(policy) {
  static_assert(sizeof(Entry) <= 128, "see Entry");
  policy_.window = std::max<size_t>(policy_.window, 1);
  jobs_.resize(jobs.size());
  size_t name_bytes = 0;
  for (const JobDemand& job : jobs)
    name_bytes += job.name.size();
  names_.reserve(name_bytes);
  name_ends_.reserve(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    const JobDemand& job = jobs[i];
    top_priority_ = i == 0 ? job.priority : std::max(top_priority_, job.priority);
    jobs_[i].spec = {job.demand, job.priority, job.duration, job.limit};
    names_ += job.name;
    name_ends_.push_back(static_cast<uint32_t>(names_.size()));
    jobs_[i].unmet = job.after.size();
    for (size_t dep : job.after)
      jobs_[dep].dependents.push_back(i);
  }
  compute_paths(jobs);
  unfinished_ = jobs_.size();
  for (size_t i = 0; i < jobs_.size(); ++i) {
    if (jobs_[i].unmet == 0) make_ready(i);
    smallest_ = i == 0 ? jobs_[i].spec.demand : min_each(smallest_, jobs_[i].spec.demand);
  }
}

// Longest path to the end of the graph, dependents before the jobs they
// depend on (Kahn's order on the reversed graph); iterative, since a chain
// of a hundred thousand jobs must not exhaust the stack.
void Scheduler::compute_paths(const std::vector<JobDemand>& jobs) {
  // Unknown durations weigh as much as a typical known one.
  std::vector<double> known;
  for (const Entry& e : jobs_) {
    if (e.spec.duration) known.push_back(*e.spec.duration);
  }
  double typical = known.empty() ? 1.0 : median(std::move(known));
  std::vector<size_t> pending(jobs_.size());
  std::vector<size_t> order;
  order.reserve(jobs_.size());
  for (size_t i = 0; i < jobs_.size(); ++i) {
    pending[i] = jobs_[i].dependents.size();
    if (pending[i] == 0) order.push_back(i);
  }
  for (size_t next = 0; next < order.size(); ++next) {
    Entry& e = jobs_[order[next]];
    double longest_after = 0;
    for (size_t dependent : e.dependents)
      longest_after = std::max(longest_after, jobs_[dependent].path);
    e.path = e.spec.duration.value_or(typical) + longest_after;
    for (size_t dep : jobs[order[next]].after) {
      if (--pending[dep] == 0) order.push_back(dep);
    }
  }
}

bool Scheduler::QueueOrder::operator()(const QueueKey& a, const QueueKey& b) const {
  if (a.path != b.path) return a.path > b.path;  // the longer way to go first
  return a.job < b.job;                          // then manifest order
}

// Ranks are kept, not computed in the comparison, so the order of the bands
// cannot change while they are queued. A long double (64 bits of mantissa
// on x86) holds any priority exactly, and the time in a rank to the second
// up to priorities of 2^64 / aging (6 x 10^16 at 5 minutes). Of two bands
// of one rank (with aging on), the lower priority has waited longer.
bool Scheduler::BandOrder::operator()(const Band* a, const Band* b) const {
  if (a->rank != b->rank) return a->rank > b->rank;
  return a->priority < b->priority;
}

Scheduler::QueueKey Scheduler::key_of(size_t job) const {
  return {path_order(jobs_[job].path), job};
}

long double Scheduler::rank_of(int64_t priority, double since) const {
  auto rank = static_cast<long double>(priority);
  if (policy_.aging > 0) rank = rank * policy_.aging - since;
  return rank;
}

Scheduler::Cursor Scheduler::queue_begin() const {
  if (queue_.empty()) return queue_end();
  return {queue_.begin(), (*queue_.begin())->jobs.begin()};
}

void Scheduler::advance(Cursor& at) const {
  if (++at.job != (*at.band)->jobs.end()) return;
  if (++at.band != queue_.end()) at.job = (*at.band)->jobs.begin();
}

Scheduler::Cursor Scheduler::find(size_t job) {
  Band& band = bands_.at(jobs_[job].spec.priority);
  return {queue_.find(&band), band.jobs.find(key_of(job))};
}

// A head that has waited an aging interval at the head claims, as of the
// moment the clock is told: the queue does not change between two events.
void Scheduler::set_now(double seconds) {
  double at = std::max(now_, seconds);
  claim_if_waited(at);
  now_ = at;
}

// A band that had no job ready enters the queue as if it had just started
// one.
void Scheduler::make_ready(size_t job) {
  Entry& e = jobs_[job];
  e.state = JobState::Ready;
  Band& band = bands_[e.spec.priority];
  if (band.jobs.empty()) {
    band.priority = e.spec.priority;
    band.rank = rank_of(band.priority, now_);
    band.jobs.insert(key_of(job));
    queue_.insert(&band);
  } else {
    band.jobs.insert(key_of(job));
  }
  note_head();
}

// The band stays in bands_, empty, for when its priority has a job ready
// again: freeing its node could cost a decision a millisecond of the
// allocator's, with 100,000 jobs of distinct priorities.
void Scheduler::drop_band(Band* band) {
  queue_.erase(band);
}

void Scheduler::unqueue(size_t job) {
  if (job == claimant_) claimant_ = SIZE_MAX;
  Band& band = bands_.at(jobs_[job].spec.priority);
  band.jobs.erase(key_of(job));
  if (band.jobs.empty()) drop_band(&band);
  note_head();
}

// Called after every change to the queue: a job that loses the head and
// later gets it back starts its patience again, as wp-run(1) promises ("at
// the head of the queue for one --aging interval").
void Scheduler::note_head() {
  size_t now_head = queue_.empty() ? SIZE_MAX : queue_begin().id();
  if (now_head == head_job_) return;
  head_job_ = now_head;
  head_since_ = now_;
}

void Scheduler::set_demand(size_t job, const Resources& demand) {
  Entry& e = jobs_[job];
  assert(e.state != JobState::Running);
  e.spec.demand = demand;
  // A smaller demand lowers the floor admit_next() stops at; a larger one
  // leaves it low, which only costs a scan.
  smallest_ = min_each(smallest_, demand);
}

std::optional<Reservation> Scheduler::reservation() const {
  if (queue_.empty()) return std::nullopt;
  size_t head = queue_begin().id();
  if (jobs_[head].spec.demand.fits_in(tracker_.free())) return std::nullopt;
  return reserve(head, tracker_.free());
}

// Running jobs give their demand back in the order of `ends`; the head can
// start once it fits in what is free then. A job past its end is taken to
// end now.
Reservation Scheduler::reserve_from(size_t head, const Resources& free,
                                    const std::set<std::pair<double, size_t>>& ends) const {
  const Resources& need = jobs_[head].spec.demand;
  Resources then = free;
  for (const auto& [end, job] : ends) {
    then += jobs_[job].spec.demand;
    if (need.fits_in(then)) return Reservation{head, std::max(end, now_), then - need};
  }
  // The head asks for more than the capacity, or `free` is short of the run's
  // own by room other processes hold (admit_next's limit), which they give
  // back when they will: unknown.
  return Reservation{head, kNever, Resources{}};
}

Reservation Scheduler::reserve(size_t head, const Resources& free) const {
  return reserve_from(head, free, running_);
}

Reservation Scheduler::reserve_surely(size_t head, const Resources& free) const {
  return reserve_from(head, free, running_limits_);
}

double Scheduler::expected_end(const Entry& e) const {
  return e.spec.duration ? e.started_at + *e.spec.duration : kNever;
}

double Scheduler::limit_end(const Entry& e) const {
  return e.spec.limit ? e.started_at + *e.spec.limit : kNever;
}

double Scheduler::score(const Resources& demand, const Resources& free) const {
  const Resources& cap = tracker_.capacity();
  double leftover = 0, alignment = 0;
  auto add = [&](double want, double left, double total) {
    if (!(total > 0)) return;
    leftover += (left - want) / total;
    alignment += (want / total) * (left / total);
  };
  add(static_cast<double>(demand.cpu.millis()), static_cast<double>(free.cpu.millis()),
      static_cast<double>(cap.cpu.millis()));
  add(static_cast<double>(demand.memory), static_cast<double>(free.memory),
      static_cast<double>(cap.memory));
  // IOPS count only where the capacity has a figure.
  if (cap.iops != Resources::kUnlimited) {
    add(static_cast<double>(demand.iops), static_cast<double>(free.iops),
        static_cast<double>(cap.iops));
  }
  add(demand.gpu, free.gpu, cap.gpu);
  switch (policy_.strategy) {
    case Strategy::BestFit:
      return -leftover;
    case Strategy::WorstFit:
      return leftover;
    case Strategy::Alignment:
      return alignment;
    case Strategy::FirstFit:
      break;
  }
  return 0;
}

bool Scheduler::head_patient() const {
  return policy_.aging <= 0 || now_ - head_since_ < policy_.aging;
}

// The head fits: it starts, unless a packing strategy prefers another job of
// its band within the window. Jobs of a lower band never go first while one
// of a higher band fits. A head that has waited an aging interval starts:
// a packing strategy's pick could take its room again every time it fits.
Scheduler::Cursor Scheduler::choose(Cursor head, const Resources& free) {
  if (policy_.strategy == Strategy::FirstFit || !head_patient()) return head;
  Cursor best = head;
  double best_score = score(jobs_[head.id()].spec.demand, free);
  size_t looked = 1;
  for (Cursor it = head;
       advance(it), !at_end(it) && it.band == head.band && looked < policy_.window; ++looked) {
    const Resources& demand = jobs_[it.id()].spec.demand;
    if (!demand.fits_in(free)) continue;
    double s = score(demand, free);
    if (s > best_score) best = it, best_score = s;
  }
  return best;
}

// The head does not fit: EASY backfilling behind its reservation. After
// waiting an aging interval at the head, it stops trusting expected run
// times and trusts limits alone: a job may still start if it uses only what
// the head leaves free now, or if its limit stops it before the running
// jobs' limits surely leave the head what it needs.
Scheduler::Cursor Scheduler::choose_backfill(Cursor head, const Resources& free) {
  bool patient = head_patient();
  Reservation held = reserve(head.id(), free);
  std::optional<double> surely;
  if (!patient) surely = reserve_surely(head.id(), free).start;
  Resources spare = patient ? held.spare : saturating_minus(free, jobs_[head.id()].spec.demand);
  // With the reservation unknown (it waits on a job of unknown duration),
  // anything that fits may start until patience runs out.
  bool unknown_start = patient && held.start == kNever;
  Cursor from = head;
  advance(from);
  return pick(from, 1, free, [&](size_t, const Entry& e) {
    return ends_in_time(e, held.start, surely) || unknown_start || e.spec.demand.fits_in(spare);
  });
}

// Expected to end by `expected` and, given `surely`, stopped by its limit by
// then too: an impatient head lets in no more than a patient one does.
bool Scheduler::ends_in_time(const Entry& e, double expected, std::optional<double> surely) const {
  if (!e.spec.duration || now_ + *e.spec.duration > expected) return false;
  return !surely || (e.spec.limit && *surely != kNever && now_ + *e.spec.limit <= *surely);
}

// The job the strategy picks among those of the window from `from` (the
// `looked` before it counted) that fit `free` and that `allowed` lets start.
// Packing never puts a job of a lower band before one of a higher band.
template <typename Allowed>
Scheduler::Cursor Scheduler::pick(Cursor from, size_t looked, const Resources& free,
                                  Allowed allowed) {
  Cursor best = queue_end();
  double best_score = 0;
  for (Cursor it = from; !at_end(it) && looked < policy_.window; advance(it), ++looked) {
    const Entry& e = jobs_[it.id()];
    if (!e.spec.demand.fits_in(free) || !allowed(it.id(), e)) continue;
    if (policy_.strategy == Strategy::FirstFit) return it;
    if (!at_end(best) && it.band != best.band) break;
    double s = score(e.spec.demand, free);
    if (at_end(best) || s > best_score) best = it, best_score = s;
  }
  return best;
}

// The head becomes the claimant once it has waited an aging interval at the
// head and its band has aged to the top: it ranks with a band of the
// highest priority that gets a job now, so no band of any priority could
// rightly go before it. Until it starts, it starts as soon as it fits (a
// packing strategy does not pick another first), and only a job that leaves
// it what it needs may start before, whether behind it in the queue or gone
// before it since: the bound wp-run(1) states. Below the top, a claim would
// hold back jobs of higher priority that become ready later.
void Scheduler::claim_if_waited(double at) {
  if (claimant_ != SIZE_MAX || head_job_ == SIZE_MAX || policy_.aging <= 0) return;
  if (at - head_since_ < policy_.aging) return;
  const Band& band = bands_.at(jobs_[head_job_].spec.priority);
  if (band.rank >= rank_of(top_priority_, at)) claimant_ = head_job_;
}

// As for an impatient head (choose_backfill), whatever the job's place in
// the queue.
Scheduler::Cursor Scheduler::choose_around_claimant(const Resources& free) {
  const Resources& claim = jobs_[claimant_].spec.demand;
  if (claim.fits_in(free)) return find(claimant_);
  Resources spare = saturating_minus(free, claim);
  double expected = reserve(claimant_, free).start;
  double surely = reserve_surely(claimant_, free).start;
  return pick(queue_begin(), 0, free, [&](size_t job, const Entry& e) {
    return job != claimant_ && (ends_in_time(e, expected, surely) || e.spec.demand.fits_in(spare));
  });
}

// Starting a band's first job puts the band back: it ranks as if it had
// just got a job ready. Another of its jobs (a backfill, or a packing
// strategy's pick) leaves the rank alone: it must not cost the first job the
// head it waited for.
void Scheduler::start(Cursor at) {
  size_t job = at.id();
  if (job == claimant_) claimant_ = SIZE_MAX;
  Entry& e = jobs_[job];
  tracker_.acquire(e.spec.demand);
  e.state = JobState::Running;
  e.started = true;
  e.started_at = now_;
  running_.insert({expected_end(e), job});
  // A job without a limit never surely frees what it holds: left out.
  if (e.spec.limit) running_limits_.insert({limit_end(e), job});
  Band* band = *at.band;
  bool first = at.job == band->jobs.begin();
  band->jobs.erase(at.job);
  if (band->jobs.empty()) {
    drop_band(band);
  } else if (first) {
    queue_.erase(at.band);  // before its rank changes
    band->rank = rank_of(band->priority, now_);
    queue_.insert(band);
  }
  note_head();
}

std::optional<size_t> Scheduler::head() const {
  if (queue_.empty()) return std::nullopt;
  return queue_begin().id();
}

std::optional<size_t> Scheduler::next_in_line() const {
  if (claimant_ != SIZE_MAX) return claimant_;
  return head();
}

std::optional<size_t> Scheduler::admit_next(const Resources* limit) {
  Resources free = limit != nullptr ? min_each(tracker_.free(), *limit) : tracker_.free();
  // Once not even the smallest demand of every dimension fits, no job can:
  // a saturated machine costs one comparison per event, not a queue scan.
  if (queue_.empty() || !smallest_.fits_in(free)) return std::nullopt;
  claim_if_waited(now_);
  Cursor head = queue_begin();
  Cursor chosen;
  if (claimant_ != SIZE_MAX) {
    chosen = choose_around_claimant(free);
  } else if (jobs_[head.id()].spec.demand.fits_in(free)) {
    chosen = choose(head, free);
  } else {
    chosen = choose_backfill(head, free);
  }
  if (at_end(chosen)) return std::nullopt;
  size_t job = chosen.id();
  start(chosen);
  return job;
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
  running_.erase({expected_end(e), job});
  if (e.spec.limit) running_limits_.erase({limit_end(e), job});
  --unfinished_;
  if (!succeeded) {
    e.state = JobState::Failed;
    skip_dependents(job, "dependency '" + std::string(name(job)) + "' failed");
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
  running_.erase({expected_end(e), job});
  if (e.spec.limit) running_limits_.erase({limit_end(e), job});
  e.state = JobState::Backoff;
}

void Scheduler::requeue(size_t job) {
  if (jobs_[job].state == JobState::Backoff) make_ready(job);
}

void Scheduler::skip(size_t job, const std::string& reason) {
  Entry& e = jobs_[job];
  if (e.state == JobState::Ready) unqueue(job);
  e.state = JobState::Skipped;
  if (reasons_.back() != reason) reasons_.push_back(reason);
  e.reason = static_cast<uint32_t>(reasons_.size() - 1);
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

std::string_view Scheduler::name(size_t job) const {
  size_t begin = job == 0 ? 0 : name_ends_[job - 1];
  return std::string_view(names_).substr(begin, name_ends_[job] - begin);
}

std::chrono::milliseconds retry_delay(std::chrono::milliseconds backoff, int tries) {
  constexpr std::chrono::milliseconds kMaxBackoff{60'000};
  // Doubling from a value already capped cannot overflow.
  std::chrono::milliseconds delay = std::min(kMaxBackoff, backoff);
  for (int n = 1; n < tries && delay < kMaxBackoff; ++n)
    delay = std::min(kMaxBackoff, delay * 2);
  return delay;
}

std::string Scheduler::failure_stop_reason(std::string_view job) {
  return "not started: job '" + std::string(job) + "' failed (use --keep-going to continue)";
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
