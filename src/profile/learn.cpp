#include "profile/learn.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <functional>
#include <thread>

#include <fmt/format.h>

#include "profile/handover.h"
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
// Profiles handed from the thread that reads them to the one that learns
// from them at a time, and at most waiting (30 attempts each: a few MiB).
constexpr size_t kProfilesABatch = 64;
constexpr size_t kProfilesWaiting = 512;

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
  if (!plan.outlook || !plan.outlook->forecast.wall) return std::nullopt;
  return plan.outlook->forecast.wall->upper;
}

// What admission used besides the demand depends on the forecast alone:
// every job sharing an outlook has the same.
void fill(Outlook& outlook, const Decision& decision) {
  outlook.predicted = decision.predicted;
  outlook.memory_upper = decision.memory_upper;
}

// Back to what a job without history has: its inputs' size.
void forget_history(JobPlan& plan) {
  std::unique_ptr<InputsPlan> inputs = std::move(plan.inputs);
  plan = JobPlan{};
  plan.inputs = std::move(inputs);
  if (plan.inputs) plan.inputs->history.reset();
}

std::optional<double> input_of(const JobPlan& plan) {
  if (!plan.inputs) return std::nullopt;
  return static_cast<double>(plan.inputs->bytes);
}

// Whether `history` has enough usable attempts to predict from.
bool enough(std::span<const AttemptRecord> history) {
  return usable_count(history) >= PredictOptions{}.min_samples;
}

// Hands `learn` every profile of `space`, on this thread, while another
// reads the next ones from SQLite: the two took about the same time, one
// after the other, before the first job of a run with a long history could
// start (see Store::namespace_attempts for what a profile holds).
Status read_histories(Store& store, const std::string& space,
                      const std::function<void(const Store::ProfileHistory&)>& learn) {
  Handover<Store::ProfileHistory> handover(kProfilesABatch, kProfilesWaiting);
  Status read = Ok{};
  std::thread reader([&] {
    // Signals are the main thread's.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    try {
      read = store.namespace_attempts(space, kHistoryLimit, [&](Store::ProfileHistory profile) {
        handover.put(std::move(profile));
      });
    } catch (const std::exception& e) {
      read = make_error("reading the job history: {}", e.what());
    }
    handover.close();
  });
  // However this thread leaves the loop, the reader is joined; one left
  // waiting for room is told to keep nothing more.
  struct Join {
    std::thread& thread;
    Handover<Store::ProfileHistory>& handover;
    ~Join() {
      if (!thread.joinable()) return;
      handover.abandon();
      thread.join();
    }
  } join{reader, handover};
  for (std::vector<Store::ProfileHistory> batch = handover.take(); !batch.empty();
       batch = handover.take()) {
    for (const Store::ProfileHistory& profile : batch)
      learn(profile);
  }
  reader.join();
  return read;
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
    Bytes wanted = round_up_mib(forecast.memory->value * options.memory_margin);
    Bytes memory = std::min(capacity.memory, wanted);
    d.predicted.memory = memory;
    d.memory_upper = round_up_mib(forecast.memory->upper);
    size_t before = d.changes.size();
    adjust(d.demand.memory, memory, "memory", *forecast.memory, scale, options, format_bytes,
           d.changes);
    if (d.changes.size() > before && wanted > memory) d.memory_beyond_capacity = wanted;
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
    double steps = std::max(1.0, std::round(measured * options.cores_margin * kCoreSteps));
    double cores = steps / kCoreSteps;
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

Baseline baseline_of(std::span<const AttemptRecord> history) {
  Baseline baseline;
  std::vector<double> inputs;
  for (auto it = history.rbegin(); it != history.rend() && inputs.size() < kRegressionWindow;
       ++it) {
    if (it->input_bytes && figure_of(*it, Resource::Wall)) {
      inputs.push_back(static_cast<double>(*it->input_bytes));
    }
  }
  if (!inputs.empty()) baseline.input_bytes = median_of(std::move(inputs));
  auto median = [&](Resource resource) -> std::optional<Baseline::Median> {
    std::vector<double> past;
    for (auto it = history.rbegin(); it != history.rend() && past.size() < kRegressionWindow;
         ++it) {
      if (auto value = figure_of(*it, resource)) past.push_back(*value);
    }
    if (past.size() < 3) return std::nullopt;
    size_t samples = past.size();
    double value = median_of(std::move(past));
    if (value <= 0) return std::nullopt;
    return Baseline::Median{value, samples};
  };
  baseline.memory = median(Resource::Memory);
  baseline.wall = median(Resource::Wall);
  return baseline;
}

std::vector<report::Regression> regressions(const std::string& job, const AttemptRecord& attempt,
                                            std::span<const AttemptRecord> history,
                                            double threshold) {
  return regressions(job, attempt, baseline_of(history), threshold);
}

std::vector<report::Regression> regressions(const std::string& job, const AttemptRecord& attempt,
                                            const Baseline& baseline, double threshold) {
  std::vector<report::Regression> found;
  // A job whose inputs grew as much is doing more work, not regressing.
  if (attempt.input_bytes && baseline.input_bytes &&
      static_cast<double>(*attempt.input_bytes) > *baseline.input_bytes * (1.0 + threshold)) {
    return found;
  }
  auto check = [&](Resource resource, const std::optional<Baseline::Median>& median,
                   std::string_view what, double floor) {
    std::optional<double> now = figure_of(attempt, resource);
    if (!now || !median) return;
    if (*now > median->value * (1.0 + threshold) && *now - median->value >= floor) {
      found.push_back({job, std::string(what), *now, median->value, median->samples});
    }
  };
  check(Resource::Memory, baseline.memory, "peak memory", kRegressionMinMemory);
  check(Resource::Wall, baseline.wall, "wall time", kRegressionMinSeconds);
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

// Every job's own history first, one profile at a time as the database
// hands them out; then, in manifest order, the family's history for the
// members with too little of their own, and declarations for the rest.
void Learning::decide() {
  for (size_t i = 0; i < manifest_.jobs.size(); ++i) {
    if (std::optional<uint64_t> bytes = input_bytes(manifest_.jobs[i])) {
      plans_[i].inputs = std::make_unique<InputsPlan>(InputsPlan{*bytes, nullptr});
    }
  }
  if (store_ != nullptr && !load_own_histories()) {
    // A history that cannot be read means declarations for the whole run.
    for (JobPlan& plan : plans_)
      forget_history(plan);
    command_changes_.clear();
  }
  std::sort(command_changes_.begin(), command_changes_.end());
  for (const auto& [job, note] : command_changes_)
    log::get("learn")->info("{}: {}", manifest_.jobs[job].name, note);
  command_changes_.clear();
  bool had_store = store_ != nullptr;
  for (size_t i = 0; i < plans_.size(); ++i) {
    JobPlan& plan = plans_[i];
    if (had_store && store_ == nullptr) {
      // Reading a family failed: from here on, as without a database.
      forget_history(plan);
    } else if (plan.source != Source::None) {
      continue;  // decided from its own history
    }
    if (store_ != nullptr && !manifest_.jobs[i].matrix.empty()) learn_from_family(i);
    if (plan.source == Source::None) adopt(i, decision_of(i, Forecast{}));
  }
  families_.clear();  // the plans of jobs with inputs hold what they need
  log_changes();
}

bool Learning::load_own_histories() {
  // Jobs by profile name, to find those a profile's attempts belong to.
  std::vector<size_t> by_name(manifest_.jobs.size());
  for (size_t i = 0; i < by_name.size(); ++i)
    by_name[i] = i;
  auto name_of = [this](size_t job) -> std::string_view {
    const manifest::Job& spec = manifest_.jobs[job];
    return spec.profile.empty() ? spec.name : spec.profile;
  };
  std::sort(by_name.begin(), by_name.end(),
            [&](size_t a, size_t b) { return name_of(a) < name_of(b); });
  auto learn = [&](const Store::ProfileHistory& profile) {
    std::string_view name = profile.key.name;
    auto first = std::lower_bound(by_name.begin(), by_name.end(), name,
                                  [&](size_t job, std::string_view n) { return name_of(job) < n; });
    for (auto it = first; it != by_name.end() && name_of(*it) == name; ++it)
      learn_from_own(*it, profile.attempts);
  };
  Status read = read_histories(*store_, space_, learn);
  if (!read) store_failed(read.error());
  return static_cast<bool>(read);
}

void Learning::learn_from_own(size_t job, std::span<const AttemptRecord> profile) {
  const manifest::Job& spec = manifest_.jobs[job];
  JobPlan& plan = plans_[job];
  // Jobs that share a profile (`profile = ...`) have different commands by
  // design, a matrix's members above all: they pool their samples.
  bool shared = !spec.profile.empty();
  std::string fingerprint = fingerprint_of(spec);
  // Copied only when some attempts ran another command: most jobs' history
  // is all of the command they run now.
  std::vector<AttemptRecord> same_command;
  std::span<const AttemptRecord> own = profile;
  if (!shared && std::any_of(profile.begin(), profile.end(), [&](const AttemptRecord& a) {
        return a.fingerprint != fingerprint;
      })) {
    same_command = of_command(profile, fingerprint, shared);
    own = same_command;
  }
  size_t earlier = profile.size() - own.size();
  bool changed = !shared && profile.back().fingerprint != fingerprint;
  OwnPlan said{memory_after_oom(own, options_.memory_margin), std::nullopt};
  if (!own.empty()) {
    Baseline baseline = baseline_of(own);
    if (baseline.memory || baseline.wall) said.baseline = baseline;
  }
  if (said.memory_floor || said.baseline) plan.own = std::make_unique<const OwnPlan>(said);
  std::span<const AttemptRecord> history;
  if (enough(own)) {
    history = own;
    plan.source = Source::Own;
  } else if (enough(profile)) {
    // A changed command is noted, not silently merged: its earlier runs are
    // the best guess there is, at half the confidence.
    history = profile;
    plan.source = Source::EarlierCommand;
  }
  if (changed) {
    command_changes_.emplace_back(
        job, fmt::format("command changed since its last run ({} attempt{} of the earlier command "
                         "kept{})",
                         earlier, earlier == 1 ? "" : "s",
                         plan.source == Source::EarlierCommand
                             ? "; predicting from them at half confidence"
                             : ""));
  }
  if (plan.source == Source::None) return;  // its family's, if any, once every profile is read
  auto outlook = std::make_shared<Outlook>();
  outlook->forecast = forecast(history, input_of(plan));
  Decision decision = decision_of(job, outlook->forecast);
  fill(*outlook, decision);
  plan.outlook = std::move(outlook);
  adopt(job, decision);
  if (plan.inputs) {
    plan.inputs->history =
        std::make_shared<const std::vector<AttemptRecord>>(history.begin(), history.end());
  }
}

void Learning::learn_from_family(size_t job) {
  const manifest::Job& spec = manifest_.jobs[job];
  JobPlan& plan = plans_[job];
  auto cached = families_.find(spec.family);
  if (cached == families_.end()) {
    auto family = store_->family_attempts(space_, spec.family, kHistoryLimit);
    if (!family) {
      store_failed(family.error());
      return;
    }
    Family read;
    if (enough(*family)) {
      read.history = std::make_shared<const std::vector<AttemptRecord>>(std::move(*family));
    }
    cached = families_.emplace(spec.family, std::move(read)).first;
  }
  Family& family = cached->second;
  if (!family.history) return;
  plan.source = Source::Family;
  // Members without inputs all have the family's forecast: predicted once.
  std::shared_ptr<Outlook> outlook = plan.inputs ? nullptr : family.outlook;
  bool fresh = outlook == nullptr;
  if (fresh) {
    outlook = std::make_shared<Outlook>();
    outlook->forecast = forecast(*family.history, input_of(plan));
    if (!plan.inputs) family.outlook = outlook;
  }
  Decision decision = decision_of(job, outlook->forecast);
  if (fresh) fill(*outlook, decision);
  plan.outlook = std::move(outlook);
  adopt(job, decision);
  if (plan.inputs) plan.inputs->history = family.history;
}

Decision Learning::decision_of(size_t job, const Forecast& forecast) const {
  const JobPlan& plan = plans_[job];
  double scale = plan.source == Source::EarlierCommand ? 0.5 : 1.0;
  return profile::decide(manifest_.jobs[job].request, forecast, capacity_, options_, scale,
                         plan.own ? plan.own->memory_floor : std::nullopt);
}

void Learning::adopt(size_t job, const Decision& decision) {
  plans_[job].demand = decision.demand;
  plans_[job].changes = static_cast<uint8_t>(decision.changes.size());
  plans_[job].beyond_capacity = decision.memory_beyond_capacity.has_value();
}

// In manifest order, the first few at info level, and a warning for every
// job predicted to need more memory than there is. The decisions are made
// again for their wording: keeping every job's would cost 100,000 strings.
void Learning::log_changes() const {
  auto log = log::get("learn");
  bool debug = log->should_log(spdlog::level::debug);
  size_t logged = 0;
  for (size_t i = 0; i < plans_.size(); ++i) {
    const JobPlan& plan = plans_[i];
    if (plan.changes == 0) continue;
    if (logged >= kLoggedChanges && !debug && !plan.beyond_capacity) {
      logged += plan.changes;
      continue;
    }
    Decision decision = decision_of(i, plan.outlook ? plan.outlook->forecast : Forecast{});
    for (const std::string& change : decision.changes) {
      auto level = logged++ < kLoggedChanges ? spdlog::level::info : spdlog::level::debug;
      log->log(level, "{}: {}", manifest_.jobs[i].name, change);
    }
    if (decision.memory_beyond_capacity) {
      log->warn(
          "{}: its history predicts {} of memory, more than the capacity's {}: it is "
          "admitted with all of it and may run out",
          manifest_.jobs[i].name, format_bytes(*decision.memory_beyond_capacity),
          format_bytes(capacity_.memory));
    }
  }
  if (logged > kLoggedChanges) {
    log->info("... and {} more changes (see --verbose)", logged - kLoggedChanges);
  }
}

exec::Admission Learning::admission(size_t job) const {
  const JobPlan& plan = plans_[job];
  return {plan.demand, plan.outlook ? plan.outlook->memory_upper : std::nullopt,
          expected_seconds(plan)};
}

std::optional<double> Learning::predicted_wall(size_t job) const {
  const JobPlan& plan = plans_[job];
  if (!plan.outlook || !plan.outlook->forecast.wall) return std::nullopt;
  return plan.outlook->forecast.wall->value;
}

std::optional<double> Learning::predicted_cores(size_t job) const {
  const JobPlan& plan = plans_[job];
  if (!plan.outlook || !plan.outlook->forecast.cores) return std::nullopt;
  return plan.outlook->forecast.cores->value;
}

std::string Learning::summary() const {
  if (options_.mode == LearnMode::Off) return "off (declarations only)";
  size_t adjusted = 0, predicted = 0;
  for (const JobPlan& plan : plans_) {
    if (plan.changes > 0) ++adjusted;
    if (plan.outlook && (plan.outlook->forecast.memory || plan.outlook->forecast.wall)) ++predicted;
  }
  return fmt::format("{}: {} of {} job{} admitted by prediction, {} with a prediction",
                     to_string(options_.mode), adjusted, plans_.size(),
                     plans_.size() == 1 ? "" : "s", predicted);
}

// Inputs written by the jobs it waited for are there now: predict again
// from their real size. Only a job with inputs has any to measure, and
// such a job kept its history for this.
std::optional<exec::Admission> Learning::job_ready(size_t job) {
  JobPlan& plan = plans_[job];
  if (!plan.inputs) return std::nullopt;
  // Declared inputs always have a size, 0 while nothing matches.
  uint64_t now = input_bytes(manifest_.jobs[job]).value_or(0);
  if (now == plan.inputs->bytes) return std::nullopt;
  plan.inputs->bytes = now;
  Resources before = plan.demand;
  std::shared_ptr<Outlook> outlook;
  if (plan.inputs->history) {
    outlook = std::make_shared<Outlook>();
    outlook->forecast = forecast(*plan.inputs->history, input_of(plan));
  }
  Decision decision = decision_of(job, outlook ? outlook->forecast : Forecast{});
  if (outlook) fill(*outlook, decision);
  plan.outlook = std::move(outlook);
  adopt(job, decision);
  if (plan.demand == before) return std::nullopt;
  log::get("learn")->info("{}: inputs now {}: {}", manifest_.jobs[job].name, format_bytes(now),
                          decision.changes.empty()
                              ? "back to its declaration"
                              : fmt::format("{}", fmt::join(decision.changes, ", ")));
  return admission(job);
}

AttemptRecord Learning::record_of(size_t job, const report::Attempt& attempt) const {
  const manifest::Job& spec = manifest_.jobs[job];
  const JobPlan& plan = plans_[job];
  AttemptRecord r;
  r.uid = fmt::format("{}/{}/{}", run_uuid_, spec.name, attempt.number);
  r.key = key_of(space_, spec);
  r.family = spec.matrix.empty() ? std::string() : spec.family;
  r.job = spec.name;
  r.fingerprint = fingerprint_of(spec);
  r.command = command_of(spec);
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
  if (plan.outlook) r.predicted = plan.outlook->predicted;
  r.usage = attempt.usage;
  if (plan.inputs) r.input_bytes = plan.inputs->bytes;
  return r;
}

void Learning::attempt_ended(size_t job, const report::Attempt& attempt) {
  AttemptRecord record = record_of(job, attempt);
  // The history a regression is judged against does not change during the
  // run: the newest attempt can be judged now, and nothing kept of it.
  const JobPlan& plan = plans_[job];
  if (record.succeeded() && plan.own && plan.own->baseline) {
    auto found = regressions(manifest_.jobs[job].name, record, *plan.own->baseline,
                             options_.regression_threshold);
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
