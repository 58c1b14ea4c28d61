#include "profile/learn.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "profile/identity.h"
#include "report/summary.h"
#include "util/log.h"

namespace wp::profile {
namespace {

constexpr Bytes kMiB = 1ull << 20;
// Enough own attempts of a job to load: the predictors' window (20) after
// dropping those of an earlier command or that ended early.
constexpr size_t kHistoryLimit = 30;
constexpr size_t kRegressionWindow = 20;
// Rises smaller than these are noise, whatever the percentage.
constexpr double kRegressionMinMemory = 16.0 * kMiB;
constexpr double kRegressionMinSeconds = 1.0;
// Per-job lines at info level before the rest go to debug.
constexpr size_t kLoggedChanges = 20;

std::string why(const Prediction& p, double scale) {
  return fmt::format("{} of {} runs, confidence {:.2f}", to_string(p.predictor), p.samples,
                     p.confidence * scale);
}

// How much a wrong lowering costs: a job given too little memory or IOPS
// risks an OOM kill or a stalled disk; one given too few cores only runs
// slower, no worse than CPU overcommit.
enum class Shortfall { Harmful, Slower };

// Lower or raise `current` to `learned` as the mode and the confidence allow;
// record the change. Raising takes half the confidence lowering does: it
// costs some packing, while an under-declared job risks an OOM kill. Lowering
// what only slows a job down when short (cores) takes half as well: their
// measurements spread with the load of the neighbours, not with the job.
template <typename T, typename Format>
void adjust(T& current, T learned, std::string_view what, const Prediction& p, double scale,
            const LearnOptions& options, Format format, std::vector<std::string>& changes,
            Shortfall shortfall = Shortfall::Harmful) {
  if (options.mode == LearnMode::Off || learned == current) return;
  bool raise = learned > current;
  if (options.mode == LearnMode::Conservative && !raise) return;
  bool cheap = raise || shortfall == Shortfall::Slower;
  double needed = cheap ? options.min_confidence / 2 : options.min_confidence;
  if (p.confidence * scale < needed) return;
  changes.push_back(
      fmt::format("{} {} -> {} ({})", what, format(current), format(learned), why(p, scale)));
  current = learned;
}

// Rounds up, ignoring the last bits of floating-point error: 100 x 1.1 is
// 110, not 111.
double ceil_clean(double x) {
  return std::ceil(x - 1e-9 * std::max(1.0, std::fabs(x)));
}

Bytes round_up_mib(double bytes) {
  return static_cast<Bytes>(ceil_clean(std::max(bytes, 1.0) / static_cast<double>(kMiB))) * kMiB;
}

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

std::string this_host() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

// The scheduler's expectation of a job's run time: the prediction's upper
// bound, since a backfilled job that overruns delays the job it was let past.
std::optional<double> expected_seconds(const JobPlan& plan) {
  if (!plan.forecast.wall) return std::nullopt;
  return plan.forecast.wall->upper;
}

}  // namespace

std::string_view to_string(LearnMode mode) {
  switch (mode) {
    case LearnMode::Auto:
      return "auto";
    case LearnMode::Conservative:
      return "conservative";
    case LearnMode::Off:
      return "off";
  }
  return "auto";
}

Decision decide(const Resources& declared, const Forecast& forecast, const Resources& capacity,
                const LearnOptions& options, double scale, std::optional<Bytes> memory_floor) {
  Decision d;
  d.demand = declared;
  if (forecast.memory) {
    Bytes memory =
        std::min(capacity.memory, round_up_mib(forecast.memory->value * options.memory_margin));
    d.predicted.memory = memory;
    d.memory_upper = round_up_mib(forecast.memory->upper);
    adjust(d.demand.memory, memory, "memory", *forecast.memory, scale, options, format_bytes,
           d.changes);
  }
  if (forecast.cores) {
    // Never more than the most it was measured to use: CPU is shared, so a
    // statistical margin above that (a CPU-bound job slowed by its
    // neighbours in some runs, spread out below one core, gets a mean + 2sd
    // above one) only keeps cores idle. A tenth of a core at least: a job
    // that sleeps still needs to be scheduled. The nearest tenth, not the
    // next: a one-core job measured at 1.02 cores (its shell, the kernel's
    // accounting) is a one-core job.
    double measured = std::min(forecast.cores->value, forecast.cores->largest);
    double cores = std::max(0.1, std::round(measured * options.cores_margin * 10.0) / 10.0);
    Cores learned = std::min(capacity.cpu, Cores::from_double(cores));
    d.predicted.cores = learned.as_double();
    adjust(d.demand.cpu, learned, "cpu", *forecast.cores, scale, options, format_cores, d.changes,
           Shortfall::Slower);
  }
  if (forecast.wall) d.predicted.wall_seconds = forecast.wall->value;
  if (forecast.iops) {
    auto iops = static_cast<Iops>(ceil_clean(forecast.iops->value * options.iops_margin));
    d.predicted.iops = static_cast<double>(iops);
    // Only a limited dimension is worth packing by: unlimited IOPS admit anything.
    if (capacity.iops != Resources::kUnlimited) {
      adjust(
          d.demand.iops, std::min(capacity.iops, iops), "iops", *forecast.iops, scale, options,
          [](Iops v) { return std::to_string(v); }, d.changes);
    }
  }
  if (memory_floor && options.mode != LearnMode::Off) {
    Bytes floor = std::min(capacity.memory, round_up_mib(static_cast<double>(*memory_floor)));
    if (floor > d.demand.memory) {
      d.changes.push_back(fmt::format("memory {} -> {} (OOM-killed in an earlier run)",
                                      format_bytes(d.demand.memory), format_bytes(floor)));
      d.demand.memory = floor;
    }
  }
  return d;
}

std::optional<Bytes> memory_after_oom(std::span<const AttemptRecord> history, double margin) {
  auto last_oom = std::find_if(history.rbegin(), history.rend(),
                               [](const AttemptRecord& a) { return a.usage.oom_killed; });
  if (last_oom == history.rend()) return std::nullopt;
  // What succeeded since shows the need; failing that, what the one retry
  // an OOM kill earns would have had.
  std::optional<Bytes> peak;
  for (auto it = history.rbegin(); it != last_oom; ++it) {
    if (auto value = figure_of(*it, Resource::Memory)) {
      peak = std::max(peak.value_or(0), static_cast<Bytes>(*value));
    }
  }
  if (peak) return static_cast<Bytes>(static_cast<double>(*peak) * margin);
  Bytes hit = std::max(last_oom->admitted.memory, last_oom->usage.peak_memory.value_or(0));
  return hit * 2;
}

std::vector<report::Regression> regressions(const std::string& job, const AttemptRecord& attempt,
                                            std::span<const AttemptRecord> history,
                                            double threshold) {
  std::vector<report::Regression> found;
  // A job whose inputs grew as much is doing more work, not regressing.
  if (attempt.input_bytes) {
    std::vector<double> inputs;
    for (auto it = history.rbegin(); it != history.rend() && inputs.size() < kRegressionWindow;
         ++it) {
      if (it->input_bytes && figure_of(*it, Resource::Wall)) {
        inputs.push_back(static_cast<double>(*it->input_bytes));
      }
    }
    if (!inputs.empty()) {
      double usual = median_of(inputs);
      if (static_cast<double>(*attempt.input_bytes) > usual * (1.0 + threshold)) return found;
    }
  }
  auto check = [&](Resource resource, std::string_view what, double floor) {
    std::optional<double> now = figure_of(attempt, resource);
    if (!now) return;
    std::vector<double> past;
    for (auto it = history.rbegin(); it != history.rend() && past.size() < kRegressionWindow;
         ++it) {
      if (auto value = figure_of(*it, resource)) past.push_back(*value);
    }
    if (past.size() < 3) return;
    double median = median_of(past);
    if (median <= 0) return;
    if (*now > median * (1.0 + threshold) && *now - median >= floor) {
      found.push_back({job, std::string(what), *now, median, past.size()});
    }
  };
  check(Resource::Memory, "peak memory", kRegressionMinMemory);
  check(Resource::Wall, "wall time", kRegressionMinSeconds);
  return found;
}

std::string random_uuid() {
  unsigned char bytes[16] = {};
  int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  bool ok = fd >= 0 && ::read(fd, bytes, sizeof bytes) == static_cast<ssize_t>(sizeof bytes);
  if (fd >= 0) ::close(fd);
  if (!ok) {
    // Unique enough for one host: time and pid.
    auto now = std::chrono::system_clock::now().time_since_epoch().count();
    return fmt::format("{:016x}{:016x}", static_cast<uint64_t>(now),
                       static_cast<uint64_t>(::getpid()));
  }
  std::string hex;
  for (unsigned char b : bytes)
    hex += fmt::format("{:02x}", b);
  return hex;
}

Learning::Learning(Store* store, const manifest::Manifest& manifest, const Resources& capacity,
                   LearnOptions options)
    : store_(store),
      manifest_(manifest),
      capacity_(capacity),
      options_(options),
      space_(namespace_of(manifest)),
      run_uuid_(random_uuid()),
      plans_(manifest.jobs.size()) {
  std::error_code ec;
  manifest_path_ = std::filesystem::absolute(manifest.path, ec).lexically_normal().string();
}

void Learning::prepare(const std::string& started) {
  decide();
  if (store_ == nullptr) return;
  recorder_.emplace(*store_, options_.keep);
  RunRecord run{run_uuid_, manifest_path_, space_, this_host(), WP_VERSION, started,
                {},        capacity_,      {}};
  if (Status begun = store_->begin_run(run); !begun) store_failed(begun.error());
}

void Learning::decide() {
  auto log = log::get("learn");
  if (store_ != nullptr) {
    auto histories = store_->namespace_attempts(space_, kHistoryLimit);
    if (histories)
      histories_ = std::move(*histories);
    else
      store_failed(histories.error());
  }
  for (size_t i = 0; i < manifest_.jobs.size(); ++i) {
    const manifest::Job& job = manifest_.jobs[i];
    JobPlan& plan = plans_[i];
    plan.key = key_of(space_, job);
    plan.family = job.matrix.empty() ? std::string() : job.family;
    plan.fingerprint = fingerprint_of(job);
    plan.command = command_of(job);
    plan.input_bytes = input_bytes(job);
    load_history(i);
    decide_job(i);
  }
  size_t logged = 0;
  histories_.clear();  // each plan holds what it needs
  for (size_t i = 0; i < plans_.size(); ++i) {
    for (const std::string& change : plans_[i].decision.changes) {
      auto level = logged++ < kLoggedChanges ? spdlog::level::info : spdlog::level::debug;
      log->log(level, "{}: {}", manifest_.jobs[i].name, change);
    }
  }
  if (logged > kLoggedChanges) {
    log->info("... and {} more changes (see --verbose)", logged - kLoggedChanges);
  }
}

void Learning::load_history(size_t job) {
  JobPlan& plan = plans_[job];
  if (store_ == nullptr) return;
  std::vector<AttemptRecord> none;
  auto found = histories_.find(plan.key.name);
  std::vector<AttemptRecord>* own = found == histories_.end() ? &none : &found->second;
  // Jobs that share a profile (`profile = ...`) have different commands by
  // design, a matrix's members above all: they pool their samples.
  bool shared = !manifest_.jobs[job].profile.empty();
  std::vector<AttemptRecord> same = of_command(*own, plan.fingerprint, shared);
  size_t earlier = own->size() - same.size();
  bool changed = !shared && !own->empty() && own->back().fingerprint != plan.fingerprint;
  plan.own = std::make_shared<const std::vector<AttemptRecord>>(std::move(same));
  PredictOptions defaults;
  if (usable_count(*plan.own) >= defaults.min_samples) {
    plan.history = plan.own;
    plan.source = "own";
  } else if (usable_count(*own) >= defaults.min_samples) {
    // A changed command is noted, not silently merged: its earlier runs are
    // the best guess there is, at half the confidence.
    plan.history = std::make_shared<const std::vector<AttemptRecord>>(*own);
    plan.source = "earlier command";
  } else if (!plan.family.empty()) {
    if (!load_family(plan)) return;
  }
  if (changed) {
    log::get("learn")->info(
        "{}: command changed since its last run ({} attempt{} of the earlier command kept{})",
        manifest_.jobs[job].name, earlier, earlier == 1 ? "" : "s",
        plan.source == "earlier command" ? "; predicting from them at half confidence" : "");
  }
}

bool Learning::load_family(JobPlan& plan) {
  auto cached = families_.find(plan.family);
  if (cached == families_.end()) {
    auto family = store_->family_attempts(plan.key.space, plan.family, kHistoryLimit);
    if (!family) {
      store_failed(family.error());
      return false;
    }
    auto shared = std::make_shared<const std::vector<AttemptRecord>>(std::move(*family));
    cached = families_.emplace(plan.family, std::move(shared)).first;
  }
  if (usable_count(*cached->second) >= PredictOptions{}.min_samples) {
    plan.history = cached->second;
    plan.source = "family";
  }
  return true;
}

void Learning::decide_job(size_t job) {
  JobPlan& plan = plans_[job];
  std::optional<double> input = plan.input_bytes
                                    ? std::optional<double>(static_cast<double>(*plan.input_bytes))
                                    : std::nullopt;
  if (!plan.history) {
    plan.forecast = {};
  } else if (plan.source == "family" && !input) {
    auto [it, fresh] = family_forecasts_.try_emplace(plan.family);
    if (fresh) it->second = forecast(*plan.history, input);
    plan.forecast = it->second;
  } else {
    plan.forecast = forecast(*plan.history, input);
  }
  double scale = plan.source == "earlier command" ? 0.5 : 1.0;
  std::optional<Bytes> floor =
      plan.own ? memory_after_oom(*plan.own, options_.memory_margin) : std::nullopt;
  plan.decision = profile::decide(manifest_.jobs[job].request, plan.forecast, capacity_, options_,
                                  scale, floor);
}

std::vector<exec::Admission> Learning::admissions() const {
  std::vector<exec::Admission> out;
  out.reserve(plans_.size());
  for (const JobPlan& plan : plans_)
    out.push_back({plan.decision.demand, plan.decision.memory_upper, expected_seconds(plan)});
  return out;
}

std::string Learning::summary() const {
  if (options_.mode == LearnMode::Off) return "off (declarations only)";
  size_t adjusted = 0, predicted = 0;
  for (const JobPlan& plan : plans_) {
    if (!plan.decision.changes.empty()) ++adjusted;
    if (plan.forecast.memory || plan.forecast.wall) ++predicted;
  }
  return fmt::format("{}: {} of {} job{} admitted by prediction, {} with a prediction",
                     to_string(options_.mode), adjusted, plans_.size(),
                     plans_.size() == 1 ? "" : "s", predicted);
}

// Inputs written by the jobs it waited for are there now: predict again
// from their real size.
std::optional<exec::Admission> Learning::job_ready(size_t job) {
  JobPlan& plan = plans_[job];
  if (!plan.input_bytes) return std::nullopt;
  std::optional<uint64_t> now = input_bytes(manifest_.jobs[job]);
  if (now == plan.input_bytes) return std::nullopt;
  plan.input_bytes = now;
  Resources before = plan.decision.demand;
  decide_job(job);
  if (plan.decision.demand == before) return std::nullopt;
  log::get("learn")->info(
      "{}: inputs now {}: {}", manifest_.jobs[job].name, format_bytes(now.value_or(0)),
      plan.decision.changes.empty() ? "back to its declaration"
                                    : fmt::format("{}", fmt::join(plan.decision.changes, ", ")));
  return exec::Admission{plan.decision.demand, plan.decision.memory_upper, expected_seconds(plan)};
}

AttemptRecord Learning::record_of(size_t job, const report::Attempt& attempt) const {
  const manifest::Job& spec = manifest_.jobs[job];
  const JobPlan& plan = plans_[job];
  AttemptRecord r;
  r.uid = fmt::format("{}/{}/{}", run_uuid_, spec.name, attempt.number);
  r.key = plan.key;
  r.family = plan.family;
  r.job = spec.name;
  r.fingerprint = plan.fingerprint;
  r.command = plan.command;
  r.run_uuid = run_uuid_;
  r.manifest = manifest_path_;
  r.number = attempt.number;
  r.started = report::format_time(attempt.started);
  r.wall_seconds = attempt.wall_seconds();
  r.exit_code = attempt.exit_code;
  r.signal = attempt.signal;
  r.timed_out = attempt.timed_out;
  r.requeued = attempt.requeued;
  r.declared = spec.request;
  r.admitted = attempt.admitted;
  r.predicted = plan.decision.predicted;
  r.usage = attempt.usage;
  r.input_bytes = plan.input_bytes;
  return r;
}

void Learning::attempt_ended(size_t job, const report::Attempt& attempt) {
  AttemptRecord record = record_of(job, attempt);
  // The history a regression is judged against does not change during the
  // run: the newest attempt can be judged now, and nothing kept of it.
  const History& own = plans_[job].own;
  if (record.succeeded() && own && !own->empty()) {
    auto found = regressions(manifest_.jobs[job].name, record, *own, options_.regression_threshold);
    if (found.empty())
      regressions_.erase(job);
    else
      regressions_[job] = std::move(found);
  } else {
    regressions_.erase(job);
  }
  if (recorder_) recorder_->add(std::move(record));
}

void Learning::finish(report::RunReport& report) {
  report.learning = summary();
  if (recorder_) {
    std::optional<Error> failed = recorder_->finish();
    recorder_.reset();
    if (failed) store_failed(*failed);
  }
  for (auto& [job, found] : regressions_)
    report.regressions.insert(report.regressions.end(), found.begin(), found.end());
  regressions_.clear();
  if (store_ == nullptr) return;
  if (Status ended =
          store_->end_run(run_uuid_, report::format_time(report.ended), report.exit_code());
      !ended) {
    store_failed(ended.error());
  }
}

// History is worth a warning, never a failed run: once, then the run goes on
// without writing (a full disk, a locked-out file).
void Learning::store_failed(const Error& error) {
  if (!warned_) {
    log::get("learn")->warn("job history not recorded: {}", error.message);
    warned_ = true;
  }
  store_ = nullptr;
  recorder_.reset();
}

}  // namespace wp::profile
