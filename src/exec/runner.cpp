#include "exec/runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <queue>
#include <unordered_map>

#include <fmt/format.h>

#include "exec/attempt_meter.h"
#include "exec/launch.h"
#include "exec/output.h"
#include "exec/run_dir.h"
#include "exec/runner_internal.h"
#include "platform/process.h"
#include "platform/sentinel.h"
#include "platform/signals.h"
#include "report/summary.h"
#include "sched/gpu_pool.h"
#include "sched/scheduler.h"
#include "util/log.h"

namespace wp::exec {
namespace {

// Every job's processes have the run's id in this variable.
constexpr std::string_view kRunIdVariable = "WP_RUN_ID";

}  // namespace

std::vector<sched::JobDemand> demands_of(const manifest::Manifest& manifest,
                                         const std::function<Admission(size_t)>& admission,
                                         std::chrono::milliseconds grace) {
  using Seconds = std::chrono::duration<double>;
  std::vector<sched::JobDemand> demands;
  demands.reserve(manifest.jobs.size());
  for (size_t i = 0; i < manifest.jobs.size(); ++i) {
    const manifest::Job& job = manifest.jobs[i];
    std::optional<Admission> decided;
    if (admission) decided = admission(i);
    std::optional<double> duration = decided ? decided->duration : std::nullopt;
    if (!duration && job.timeout) duration = Seconds(*job.timeout).count();
    std::optional<double> limit;
    if (job.timeout) limit = Seconds(*job.timeout + grace).count();
    demands.push_back({job.name, decided ? decided->demand : job.request, job.priority, job.after,
                       duration, limit});
  }
  return demands;
}

namespace detail {
namespace {

// Limits follow the larger of the declaration and the admission: a job
// admitted below what it declared, because its history says it needs less,
// may still use what it declared before it is stopped.
Resources limit_base(const Resources& declared, const Resources& admitted) {
  return Resources{std::max(declared.cpu, admitted.cpu), std::max(declared.memory, admitted.memory),
                   std::max(declared.iops, admitted.iops), admitted.gpu};
}

constexpr Bytes kMiB = 1ull << 20;

sched::PressureConfig pressure_config(const RunOptions& options, const Capacity& capacity) {
  sched::PressureConfig config = options.pressure;
  sched::PressureConfig defaults = sched::default_pressure_config(capacity.total.memory);
  if (config.reserve == 0) config.reserve = defaults.reserve;
  if (config.critical == 0) config.critical = config.reserve / 2;
  config.enabled = options.memory_guard != GuardMode::Off;
  config.action = options.memory_guard == GuardMode::Requeue ? sched::PressureAction::Requeue
                                                             : sched::PressureAction::Suspend;
  return config;
}

}  // namespace

Runner::Runner(const manifest::Manifest& manifest, const Capacity& capacity,
               const RunOptions& options, RunDir run_dir, JobControl control,
               platform::Sentinel sentinel, platform::SignalChannel signals,
               report::RunReport report)
    : manifest_(manifest),
      options_(options),
      run_dir_(std::move(run_dir)),
      control_(std::move(control)),
      sentinel_(std::move(sentinel)),
      signals_(std::move(signals)),
      report_(std::move(report)),
      scheduler_(demands_of(manifest, options.admission, options.grace), capacity.total,
                 options.policy),
      memory_retried_(manifest.jobs.size(), false),
      gpu_pool_(capacity.gpu_devices),
      log_(log::get("run")),
      inherited_env_(inherited_environment()),
      pressure_(options.memory_guard, pressure_config(options, capacity)) {
  report_.measurement = control_.measurement();
  report_.enforcement = control_.enforcement();
  if (auto run_cgroup = control_.cgroup2_run_dir()) pressure_.use_pressure_of(*run_cgroup);
  if (options.admission) {
    memory_upper_.resize(manifest.jobs.size());
    if (options.progress.enabled) predicted_.assign(manifest.jobs.size(), -1.0);
    for (size_t i = 0; i < manifest.jobs.size(); ++i) {
      Admission admission = options.admission(i);
      memory_upper_[i] = admission.memory_upper.value_or(0);
      if (options.progress.enabled && admission.duration) predicted_[i] = *admission.duration;
    }
  }
  if (options.progress.enabled) status_.emplace(options.progress);
  other_stems_ = run_dir_.other_stems(
      manifest.jobs.size(), [&](size_t i) -> const std::string& { return manifest.jobs[i].name; });
  auto path = inherited_env_.find("PATH");
  path_var_ = path != inherited_env_.end() ? path->second : "/usr/local/bin:/usr/bin:/bin";
  dev_null_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));  // else each child opens it
  default_signals_ = platform::non_default_signals();
  if (options.passthrough) {
    if (auto terminal = platform::Foreground::claim(STDIN_FILENO, STDOUT_FILENO)) {
      foreground_.emplace(std::move(*terminal));
    }
  }
}

report::RunReport Runner::run() {
  // A first reading before the first admission: a run started on a machine
  // already short of memory must not start a full batch.
  if (pressure_.enabled()) check_pressure(SteadyClock::now());
  while (!scheduler_.all_done()) {
    if (interrupted_by_ == 0 && admission_open_) start_admitted();
    if (scheduler_.all_done()) break;
    bool in_line = options_.ledger != nullptr && options_.ledger->waiting();
    if (active_.empty() && backoff_.empty() && admission_open_ && !in_line) {
      // Validation rejects jobs that can never fit, so this is a bug; end
      // the run rather than wait forever.
      log_->error("no job can start with the capacity left; stopping");
      scheduler_.stop("not started: does not fit the capacity", true);
      break;
    }
    wait_for_events();
  }
  sentinel_.reset();  // every job has ended: dismiss it before reaping the rest
  platform::stop_orphans();
  control_.close();
  // A signal after the last poll is still an interrupt the report must show.
  for (int sig : signals_.drain()) {
    if (sig != SIGCHLD && sig != SIGWINCH && interrupted_by_ == 0) interrupted_by_ = sig;
  }
  for (size_t i = 0; i < manifest_.jobs.size(); ++i) {
    report::JobReport& job = report_.jobs[i];
    if (scheduler_.state(i) != sched::JobState::Skipped) continue;
    if (job.attempts.empty()) {
      job.status = JobStatus::Skipped;
      job.reason = scheduler_.reason(i);
    } else {
      // Only an interrupt cancels a pending retry.
      job.status = JobStatus::Interrupted;
      job.reason = "retry cancelled: run interrupted";
    }
  }
  if (interrupted_by_) report_.interrupted_by = interrupted_by_;
  status_.reset();  // erased: the summary stands alone
  report_.ended = report::Clock::now();
  return std::move(report_);
}

const std::string& Runner::stem(size_t job) const {
  auto other = other_stems_.find(job);
  return other != other_stems_.end() ? other->second : manifest_.jobs[job].name;
}

// Ends and readiness are stamped with the time of the loop turn that saw
// them: a few milliseconds late at most, which aging and reservations
// measured in seconds do not notice.
void Runner::tell_time() {
  scheduler_.set_now(std::chrono::duration<double>(SteadyClock::now() - began_).count());
}

void Runner::start_admitted() {
  token_wanted_ = false;
  // Under memory pressure the guard admits only while nothing runs, and
  // then one job: the next waits for a reading with that one running.
  if (pressure_level_ != sched::PressureLevel::Normal && !active_.empty()) return;
  // One at a time: a job that fails to start gives its resources back (and
  // may stop the run) before the next is admitted.
  while (std::optional<size_t> job = admit_one()) {
    start(*job);
    if (pressure_level_ != sched::PressureLevel::Normal) break;
  }
  settle_tokens();
}

// The job to start next: the scheduler's choice, with a token from make's
// jobserver for each job beyond the first, within the room the ledger
// leaves.
std::optional<size_t> Runner::admit_one() {
  ledger::Ledger* ledger = options_.ledger;
  if (!scheduler_.could_admit()) {
    // Nothing this run could start: it holds no place in line meanwhile.
    if (ledger != nullptr && ledger->waiting()) ledger::Ledger::Session(*ledger).stop_waiting();
    return std::nullopt;
  }
  if (!take_token()) return std::nullopt;
  if (ledger == nullptr) return scheduler_.admit_next();
  return admit_by_ledger(*ledger);
}

// One decision under the ledger's lock, so the room it saw is still there
// when the lease is taken. When the head of the queue fits this run's own
// capacity but not the room others leave, the run takes a place in line for
// it: later processes then leave it room, and it waits to be woken.
std::optional<size_t> Runner::admit_by_ledger(ledger::Ledger& ledger) {
  ledger::Ledger::Session session(ledger);
  Resources room = session.available();
  if (std::optional<size_t> job = scheduler_.admit_next(&room)) {
    session.take(scheduler_.demand(*job));
    said_waiting_ = false;
    return job;
  }
  std::optional<size_t> next = scheduler_.next_in_line();
  if (next && scheduler_.demand(*next).fits_in(scheduler_.tracker().free())) {
    session.wait_for(scheduler_.demand(*next), manifest_.jobs[*next].priority);
    // With nothing of its own running, a silent run looks stuck: say why,
    // once for each such wait.
    bool stalled = active_.empty() && !said_waiting_;
    log_->log(stalled ? spdlog::level::info : spdlog::level::debug,
              "{} waits for room that other wp processes of this user hold (see LEDGER in "
              "wp-run(1))",
              manifest_.jobs[*next].name);
    said_waiting_ = said_waiting_ || stalled;
  } else {
    session.stop_waiting();
  }
  return std::nullopt;
}

// The first running job runs on the token make gave the recipe; each one
// more needs a token of its own.
bool Runner::take_token() {
  platform::Jobserver* jobserver = options_.jobserver;
  if (jobserver == nullptr || jobserver->wait_fd() < 0 || jobserver->held() >= active_.size()) {
    return true;
  }
  if (jobserver->try_take()) return true;
  token_wanted_ = jobserver->wait_fd() >= 0;  // else make is gone: no limit
  return !token_wanted_;
}

// Tokens beyond those the running jobs need go back to make.
void Runner::settle_tokens() {
  platform::Jobserver* jobserver = options_.jobserver;
  if (jobserver == nullptr) return;
  size_t needed = active_.empty() ? 0 : active_.size() - 1;
  while (jobserver->held() > needed)
    jobserver->give_back();
}

void Runner::start(size_t job) {
  int number = static_cast<int>(report_.jobs[job].attempts.size()) + 1;
  const manifest::Job& spec = manifest_.jobs[job];
  SteadyTime now = SteadyClock::now();
  std::string prefix = "[" + spec.name + "] ";
  Attempt record;
  record.number = number;
  record.started = report::Clock::now();
  record.admitted = scheduler_.demand(job);
  auto active = std::make_unique<Active>(
      job, Stream({&run_dir_, &stem(job), number, "out"}, prefix, options_.job_stdout_fd),
      Stream({&run_dir_, &stem(job), number, "err"}, prefix, STDERR_FILENO), record);
  active->started = now;
  active->meter =
      control_.meter_for(stem(job), number, limit_base(spec.request, active->attempt.admitted),
                         active->attempt.limits);
  if (Status launched = launch(*active); !launched) {
    fail_to_start(*active, launched.error().message);
    return;
  }
  active->meter->started(active->pid, now);
  if (log_->should_log(spdlog::level::info)) {
    int tries = counted_attempts(job) + 1;
    std::string retry =
        tries > 1 ? fmt::format(", attempt {} of {}", tries, attempts_allowed(job)) : "";
    log_->info("start {} ({}{})", spec.name, format_resources(active->attempt.admitted), retry);
  }
  pid_t pid = active->pid;
  sentinel_->watch(pid);
  active_.emplace(pid, std::move(active));
}

// The attempt never ran: its .err log says why, as the failure line points there.
void Runner::fail_to_start(Active& active, const std::string& message) {
  if (foreground_) foreground_->take_back();
  Attempt attempt = std::move(active.attempt);
  attempt.ended = report::Clock::now();
  attempt.spawn_error = message;
  write_log(active.err, "wp: " + message + "\n");
  attempt.stderr_log = active.err.created ? active.err.log_path : std::filesystem::path();
  conclude(active.job, std::move(attempt));
}

Status Runner::launch(Active& active) {
  const manifest::Job& spec = manifest_.jobs[active.job];
  const std::string* job_path = manifest::find_value(spec.env, "PATH");
  auto plan = plan_launch(spec, job_path != nullptr ? *job_path : path_var_, &executables_);
  if (!plan) return plan.error();
  auto out_pipe = platform::make_pipe();
  if (!out_pipe) return out_pipe.error();
  auto err_pipe = platform::make_pipe();
  if (!err_pipe) return err_pipe.error();
  // Passed through, the job writes where wp does; its pipes go unused.
  bool through = options_.passthrough;
  int attempt = active.attempt.number;
  active.gpus = gpu_pool_.acquire(spec.request.gpu);
  int64_t whole_cores = (spec.request.cpu.millis() + 999) / 1000;
  EnvMap wp_vars{{"WP_JOB_NAME", spec.name},
                 {"WP_JOB_ATTEMPT", std::to_string(attempt)},
                 {std::string(kRunIdVariable), report_.run_id},
                 {"WP_RUN_DIR", run_dir_.path().string()},
                 {"WP_CPUS", std::to_string(std::max<int64_t>(1, whole_cores))}};
  if (!active.gpus.empty()) {
    // Both: CUDA reads the first, the NVIDIA container runtime the second.
    wp_vars["CUDA_VISIBLE_DEVICES"] = sched::device_list(active.gpus);
    wp_vars["NVIDIA_VISIBLE_DEVICES"] = wp_vars["CUDA_VISIBLE_DEVICES"];
  }
  platform::SpawnRequest request{plan->executable,
                                 plan->argv,
                                 job_environment(inherited_env_, spec, wp_vars),
                                 spec.cwd.str(),
                                 through ? STDOUT_FILENO : out_pipe->write.get(),
                                 through ? STDERR_FILENO : err_pipe->write.get(),
                                 {},
                                 through ? STDIN_FILENO : dev_null_.get(),
                                 default_signals_};
  request.foreground = foreground_.has_value();
  if (platform::JobCgroup* cgroup = active.meter->cgroup()) {
    request.cgroup = cgroup->entry();
  }
  auto spawned = platform::spawn(std::move(request));
  if (!spawned) {
    gpu_pool_.release(std::exchange(active.gpus, {}));
    return spawned.error();
  }
  // The write ends now belong to the child; holding them would keep EOF away.
  active.pid = spawned->pid();
  active.process.emplace(std::move(*spawned));
  // The child gives itself the terminal too; whichever comes first, it is
  // there before the job reads (the race every shell closes this way).
  if (foreground_) foreground_->give(active.pid);
  if (!through) {
    active.out.pipe = std::move(out_pipe->read);
    active.err.pipe = std::move(err_pipe->read);
  }
  if (spec.timeout) active.deadline = active.started + *spec.timeout;
  if (log_->should_log(spdlog::level::debug)) {
    log_->debug("{}: pid {} runs {}{}", spec.name, active.pid, plan->executable.string(),
                plan->through_shell ? " (through /bin/sh)" : "");
  }
  return Ok{};
}

std::optional<SteadyTime> Runner::next_timer() const {
  std::optional<SteadyTime> next;
  auto consider = [&next](const std::optional<SteadyTime>& t) {
    if (t && (!next || *t < *next)) next = t;
  };
  for (const auto& [pid, active] : active_) {
    consider(active->kill_at ? active->kill_at : active->deadline);
    consider(next_sample(*active));
  }
  if (!backoff_.empty()) consider(backoff_.top().first);
  if (status_) consider(status_->next_due());
  // A holder killed by SIGKILL wakes no one: its lease is found gone by looking.
  if (options_.ledger != nullptr && options_.ledger->waiting()) {
    consider(SteadyClock::now() + ledger::Ledger::recheck_interval());
  }
  if (pressure_.enabled() && (!active_.empty() || !admission_open_)) {
    consider(pressure_.next_check());
  }
  return next;
}

void Runner::wait_for_events() {
  std::vector<pollfd> fds{{signals_.fd(), POLLIN, 0}};
  std::vector<Stream*> streams{nullptr};  // streams[i] is read from fds[i]
  // Waking is all they do: the next turn's admission looks again.
  size_t wakers = 0;
  if (options_.ledger != nullptr && options_.ledger->waiting() && options_.ledger->wake_fd() >= 0) {
    fds.push_back({options_.ledger->wake_fd(), POLLIN, 0});
    ++wakers;
  }
  if (token_wanted_) {
    fds.push_back({options_.jobserver->wait_fd(), POLLIN, 0});
    ++wakers;
  }
  streams.resize(1 + wakers, nullptr);
  for (auto& [pid, active] : active_) {
    for (Stream* stream : {&active->out, &active->err}) {
      if (!stream->pipe) continue;
      fds.push_back({stream->pipe.get(), POLLIN, 0});
      streams.push_back(stream);
    }
  }
  timespec timeout{};
  timespec* timeout_ptr = nullptr;
  if (auto next = next_timer()) {
    auto wait = std::max(SteadyClock::duration::zero(), *next - SteadyClock::now());
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
    timeout = {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    timeout_ptr = &timeout;
  }
  int ready = ::ppoll(fds.data(), fds.size(), timeout_ptr, nullptr);
  if (ready < 0 && errno != EINTR) log_->error("ppoll: {}", std::strerror(errno));
  tell_time();  // what ends now makes its dependents ready now
  if (ready > 0 && wakers > 0 && options_.ledger != nullptr) options_.ledger->drain_wake();
  for (size_t i = 1 + wakers; ready > 0 && i < fds.size(); ++i) {
    if (fds[i].revents == 0) continue;
    if (read_stream(*streams[i]) == ReadResult::Closed) streams[i]->pipe.reset();
  }
  if (ready > 0 && fds[0].revents != 0) {
    for (int sig : signals_.drain())
      on_signal(sig);
  }
  finish_reaped();
  fire_timers();
  update_status(SteadyClock::now());
}

// Appends to the stream's log, creating it on the first write. After an
// error the log is left as it is: reopening with O_TRUNC would erase it.
void Runner::write_log(Stream& stream, std::string_view data) {
  if (stream.state == Stream::Log::NotYet) {
    const LogName& name = stream.log_name;
    stream.log_path = name.dir->log_path(*name.stem, name.attempt, name.kind);
    int fd = ::open(stream.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      log_->warn("cannot create {}: {}", stream.log_path.string(), std::strerror(errno));
      stream.state = Stream::Log::Failed;
      return;
    }
    stream.log.reset(fd);
    stream.state = Stream::Log::Open;
    stream.created = true;
  }
  if (stream.state != Stream::Log::Open || write_all(stream.log.get(), data)) return;
  log_->warn("cannot write {}: {}", stream.log_path.string(), std::strerror(errno));
  stream.state = Stream::Log::Failed;
  stream.log.reset();
}

// Reads one chunk into the log and the terminal.
Runner::ReadResult Runner::read_stream(Stream& stream) {
  char buffer[64 * 1024];
  ssize_t n = ::read(stream.pipe.get(), buffer, sizeof buffer);
  if (n < 0) return errno == EAGAIN || errno == EINTR ? ReadResult::Empty : ReadResult::Closed;
  if (n == 0) return ReadResult::Closed;
  std::string_view data(buffer, static_cast<size_t>(n));
  write_log(stream, data);
  if (live_lines()) stream.lines.feed(data);
  return ReadResult::Data;
}

void Runner::on_signal(int sig) {
  if (sig == SIGCHLD) {
    reap_children();
    return;
  }
  if (sig == SIGWINCH) {
    if (status_) status_->resize();
    return;
  }
  interrupt(sig);
}

void Runner::reap_children() {
  int status = 0;
  pid_t pid = 0;
  struct rusage usage {};
  int flags = WNOHANG | (foreground_ ? WUNTRACED : 0);
  while ((pid = ::wait4(-1, &status, flags, &usage)) > 0) {
    if (WIFSTOPPED(status)) {
      on_stop(pid);
      continue;
    }
    if (sentinel_ && pid == sentinel_->pid()) {
      log_->warn(
          "the wp-sentinel process ended; jobs are no longer guarded against wp being killed");
      sentinel_->reaped();
      continue;
    }
    auto it = active_.find(pid);
    if (it == active_.end()) continue;  // an adopted orphan (wp is a subreaper)
    Reaped& ended = reaped_.emplace_back(
        Reaped{std::move(it->second), status, usage, false, interrupted_by_ != 0});
    active_.erase(it);
    ended.active->attempt.ended = report::Clock::now();
    ended.released = release_early(*ended.active, status);
  }
}

// A job that exited 0 and left nothing behind gives its resources back as
// soon as it is reaped, before it is accounted for: finish_reaped() starts
// what they admit first. Anything else (a failure may be retried with more
// memory, which its cgroup's counters decide) waits for on_exit().
bool Runner::release_early(Active& active, int status) {
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || interrupted_by_ != 0 || foreground_) {
    return false;
  }
  if (active.process->failure() || active.attempt.timed_out || active.attempt.requeued ||
      active.oom_stopped || !only_known_children()) {
    return false;
  }
  // Its process group is empty too, or on_exit() kills what is left.
  if (active.meter->kill_all(/*only_group=*/true) > 0) return false;
  sentinel_->forget(active.pid);
  // Given back with the lock that admits what it frees (finish_reaped).
  if (options_.ledger != nullptr) options_.ledger->release_later(active.attempt.admitted);
  gpu_pool_.release(active.gpus);
  active.gpus.clear();
  // What the user sees of the job comes before what starts next: its last
  // output, its block (--ci-format), "ok".
  drain_output(active);
  active.attempt.exit_code = 0;
  show_block(active.job, active.attempt);
  say_ok(active.job, active.attempt);
  scheduler_.finished(active.job, true);
  refresh_dependents(active.job);
  return true;
}

// The jobs that ended. Those not released early are concluded first,
// before anything starts: a failure may stop the run (without --keep-going)
// or be retried, and what is left of such a job is killed and its process
// group forgotten before a new job could be given its pid. Then what the
// released resources admit starts, and only then are the released jobs
// accounted for: reading a job's cgroup counters and readying its cgroup
// for another job (on cgroup v1, four reads and a write) cost the event
// loop about as much as starting a job, and meanwhile a core would wait.
// So the pool holds one cgroup more than the jobs running at once. A signal
// that interrupts the run was handled before: nothing new starts then.
void Runner::finish_reaped() {
  bool released = false;
  for (Reaped& ended : reaped_) {
    if (ended.released) {
      released = true;
    } else {
      on_exit(ended);
    }
  }
  if (released && interrupted_by_ == 0 && admission_open_) start_admitted();
  // Nothing admitted took the ledger's lock: what was released goes back now.
  if (options_.ledger != nullptr) options_.ledger->flush();
  for (Reaped& ended : reaped_) {
    if (ended.released) on_exit(ended);
  }
  reaped_.clear();
}

// Ctrl-Z stopped the job's group, which has the terminal: wp stops too, so
// that the shell sees its job stopped, and when continued hands the
// terminal back (`fg`; not after `bg`) and continues the job.
void Runner::on_stop(pid_t pid) {
  auto it = active_.find(pid);
  // The memory guard's own stops, and a job being ended, stay as they are.
  if (it == active_.end() || it->second->suspended_at || interrupted_by_ != 0) return;
  Active& active = *it->second;
  foreground_->take_back();
  log_->debug("{}: stopped; stopping wp", manifest_.jobs[active.job].name);
  SteadyTime stopped = SteadyClock::now();
  platform::stop_as_job();
  // Stopped time does not count against the timeout.
  if (active.deadline) *active.deadline += SteadyClock::now() - stopped;
  if (foreground_->in_foreground()) foreground_->give(pid);
  platform::signal_group(pid, SIGCONT);
}

void Runner::on_exit(Reaped& ended) {
  Active& active = *ended.active;
  int status = ended.status;
  bool released = ended.released;
  // Before anything is printed: the terminal is wp's again.
  if (foreground_) foreground_->take_back();
  // A step between fork and exec failed (spawn() did not wait to see it):
  // the attempt never ran.
  if (std::optional<Error> failed = active.process->failure()) {
    sentinel_->forget(active.pid);
    gpu_pool_.release(active.gpus);
    fail_to_start(active, failed->message);
    return;
  }
  const std::string& name = manifest_.jobs[active.job].name;
  // What is left of the job (its process group, and with a cgroup every
  // process that escaped the group) is orphaned: stop it, so no job outlives
  // its own record and the pipes reach end of file. (release_early() saw
  // nothing left and did the rest.)
  if (!released) {
    if (active.meter->kill_all(only_known_children()) > 0) {
      log_->debug("{}: killed processes it left behind", name);
    }
    sentinel_->forget(active.pid);
    gpu_pool_.release(active.gpus);
    drain_output(active);
  }
  Attempt attempt = std::move(active.attempt);
  if (WIFEXITED(status)) attempt.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) attempt.signal = WTERMSIG(status);
  // As the run stood when the job was reaped: an interrupt handled since is
  // not the attempt's.
  attempt.interrupted = ended.interrupted && !attempt.timed_out;
  attempt.usage = active.meter->finish(ended.usage, attempt.wall_seconds());
  active.meter.reset();  // its cgroup goes back to the pool, or is removed
  conclude(active.job, std::move(attempt), released);
}

// Formatted only when it is logged: most batches run with --quiet.
void Runner::say_ok(size_t job, const Attempt& attempt) {
  if (!log_->should_log(spdlog::level::info)) return;
  log_->info("ok {} in {}", manifest_.jobs[job].name, format_seconds(attempt.wall_seconds()));
}

// What the job wrote before it ended goes to its logs (and the terminal),
// and the logs it has into its attempt. Bounded, since a process that
// escaped the group may hold a pipe and keep writing.
void Runner::drain_output(Active& active) {
  Attempt& attempt = active.attempt;
  for (auto [stream, path] :
       {std::pair{&active.out, &attempt.stdout_log}, std::pair{&active.err, &attempt.stderr_log}}) {
    for (int chunk = 0; chunk < kMaxDrainChunks && stream->pipe; ++chunk) {
      if (read_stream(*stream) != ReadResult::Data) break;
    }
    stream->pipe.reset();
    if (live_lines()) stream->lines.finish();
    if (stream->created) *path = stream->log_path;  // else the job wrote nothing there
    stream->log.reset();
  }
}

// wp is a subreaper: a process a job left behind, whatever group or session
// it moved to, is wp's child once its parents are gone (the job's main
// process is), the thread that spawned the job its parent. No child but the
// running jobs and the sentinel: the job that ended left nothing, which one
// read of this list tells for every job instead of a read of its cgroup's
// process list (which v1 builds afresh, sorted, on every open).
bool Runner::only_known_children() const {
  auto children = children_.read();
  if (!children) return false;
  for (pid_t pid : *children) {
    bool known = active_.count(pid) > 0 || (sentinel_ && pid == sentinel_->pid());
    if (!known) return false;
  }
  return true;
}

void Runner::fire_timers() {
  SteadyTime now = SteadyClock::now();
  for (auto& [pid, active] : active_) {
    if (active->kill_at && *active->kill_at <= now) {
      active->meter->kill_all();  // the whole cgroup: a daemon of the job too
      active->kill_at.reset();
      active->deadline.reset();
    } else if (!active->kill_at && !active->suspended_at && active->deadline &&
               *active->deadline <= now) {
      // A suspended job's clock stands still: its deadline moves on resume.
      log_->debug("{}: timeout reached, sending SIGTERM", manifest_.jobs[active->job].name);
      active->attempt.timed_out = true;
      active->attempt.timeout = *manifest_.jobs[active->job].timeout;
      platform::signal_group(pid, SIGTERM);
      active->kill_at = now + options_.grace;
    }
  }
  sample_jobs(now);
  if (pressure_.enabled() && now >= pressure_.next_check()) check_pressure(now);
  while (!backoff_.empty() && backoff_.top().first <= now) {
    scheduler_.requeue(backoff_.top().second);
    backoff_.pop();
  }
}

// Attempts that count against `retries`: one the memory-pressure guard
// killed and requeued was not the job's fault.
int Runner::counted_attempts(size_t job) const {
  int counted = 0;
  for (const Attempt& a : report_.jobs[job].attempts) {
    if (!a.requeued && !a.memory_retry) ++counted;
  }
  return counted;
}

// After an OOM kill: twice the most of the limit it hit, its measured peak
// and the prediction's upper bound (the peak of a killed job is only a floor
// of its need), and never more than the capacity.
// nullopt when that is no more than it had.
std::optional<Bytes> Runner::memory_for_retry(size_t job, const Attempt& attempt) const {
  Bytes base = std::max({attempt.admitted.memory, attempt.limits.memory.value_or(0),
                         attempt.usage.peak_memory.value_or(0)});
  if (job < memory_upper_.size()) base = std::max(base, memory_upper_[job]);
  double wanted = static_cast<double>(base) * 2.0;
  Bytes more = static_cast<Bytes>(std::ceil(wanted / static_cast<double>(kMiB))) * kMiB;
  more = std::min(more, scheduler_.tracker().capacity().memory);
  if (more <= attempt.admitted.memory) return std::nullopt;
  return more;
}

// Dependents that became ready may read what `job` wrote: learning may
// revise their demand now that their inputs exist.
void Runner::refresh_dependents(size_t job) {
  if (options_.observer == nullptr) return;
  for (size_t dependent : scheduler_.dependents(job)) {
    if (scheduler_.state(dependent) != sched::JobState::Ready) continue;
    if (auto admission = options_.observer->job_ready(dependent)) {
      scheduler_.set_demand(dependent, admission->demand);
      if (!predicted_.empty() && admission->duration) predicted_[dependent] = *admission->duration;
    }
  }
}

void Runner::conclude(size_t job, Attempt last, bool released) {
  // Every attempt start() began took a lease for its admission.
  if (options_.ledger != nullptr && !released) options_.ledger->release(last.admitted);
  const manifest::Job& spec = manifest_.jobs[job];
  report::JobReport& record = report_.jobs[job];
  std::optional<Bytes> more_memory;
  if (last.exceeded_memory() && !interrupted_by_) more_memory = memory_for_retry(job, last);
  if (more_memory && !memory_retried_[job]) {
    last.memory_retry = true;  // the one retry an OOM kill earns
    memory_retried_[job] = true;
  }
  record.attempts.push_back(last);
  if (!released) show_block(job, last);
  if (options_.observer != nullptr && last.spawn_error.empty()) {
    options_.observer->attempt_ended(job, last);
  }
  if (last.requeued && !interrupted_by_) {
    log_->warn("{} put back in the queue (memory pressure)", spec.name);
    scheduler_.retry_later(job);
    scheduler_.requeue(job);
    return;
  }
  if (last.succeeded()) {
    record.status = JobStatus::Ok;
    if (released) return;  // release_early() said so
    scheduler_.finished(job, true);
    say_ok(job, last);
    refresh_dependents(job);
    return;
  }
  int tries = counted_attempts(job);
  bool can_retry = tries < attempts_allowed(job) && !last.interrupted && !interrupted_by_;
  if (!can_retry) {
    fail_finally(job, last);
    return;
  }
  std::chrono::milliseconds delay = sched::retry_delay(options_.retry_backoff, tries);
  scheduler_.retry_later(job);
  std::string with;
  if (more_memory) {
    Resources demand = scheduler_.demand(job);
    demand.memory = *more_memory;
    scheduler_.set_demand(job, demand);
    with = fmt::format(" with memory {}", format_bytes(*more_memory));
  }
  if (last.memory_retry) {
    log_->warn("{} failed: {}; retrying in {}{} (an OOM kill earns one retry)", spec.name,
               last.describe(), format_duration(delay), with);
  } else {
    log_->warn("{} failed: {} (attempt {} of {}); retrying in {}{}", spec.name, last.describe(),
               tries, attempts_allowed(job), format_duration(delay), with);
  }
  backoff_.emplace(SteadyClock::now() + delay, job);
}

void Runner::fail_finally(size_t job, const Attempt& attempt) {
  const manifest::Job& spec = manifest_.jobs[job];
  report::JobReport& record = report_.jobs[job];
  record.status = attempt.interrupted ? JobStatus::Interrupted
                  : attempt.timed_out ? JobStatus::TimedOut
                                      : JobStatus::Failed;
  if (attempt.interrupted) record.reason = "run interrupted";
  if (!attempt.spawn_error.empty()) record.reason = attempt.spawn_error;
  scheduler_.finished(job, false);
  if (attempt.interrupted) return;
  // `wp exec`: the command's own status and output say it.
  if (options_.passthrough) {
    if (!attempt.spawn_error.empty()) log_->error("{}", attempt.spawn_error);
    return;
  }
  std::filesystem::path log_path = attempt.main_log();
  std::string ran_for = attempt.spawn_error.empty()
                            ? " after " + format_seconds(attempt.wall_seconds())
                            : std::string();
  log_->error("FAILED {}: {}{}; {}", spec.name, attempt.describe(), ran_for,
              log_path.empty() ? "no output" : "log: " + report::display_path(log_path));
  annotate_failure(job, attempt);
  if (options_.quiet && options_.ci_format == report::CiFormat::Plain) {
    std::string tail = tail_lines(attempt.stderr_log.string(), kQuietTailLines);
    if (tail.empty()) tail = tail_lines(attempt.stdout_log.string(), kQuietTailLines);
    LinePrefixer lines("[" + spec.name + "] ", 2);
    lines.feed(tail);
    lines.finish();
  }
  if (!options_.keep_going && !scheduler_.stopped()) {
    scheduler_.stop(sched::Scheduler::failure_stop_reason(spec.name), false);
  }
}

void Runner::interrupt(int sig) {
  if (foreground_) foreground_->take_back();
  if (interrupted_by_ != 0) {
    log_->warn("{} again: killing every job now", platform::signal_name(sig));
    for (const auto& [pid, active] : active_)
      active->meter->kill_all();
    return;
  }
  interrupted_by_ = sig;
  log_->warn("{}: stopping {} running job(s); {} more to force", platform::signal_name(sig),
             active_.size(), platform::signal_name(sig));
  scheduler_.stop("not started: run interrupted", true);
  while (!backoff_.empty())
    backoff_.pop();
  SteadyTime kill_at = SteadyClock::now() + options_.grace;
  for (auto& [pid, active] : active_) {
    if (active->suspended_at) suspend(*active, false);
    platform::signal_group(pid, sig);
    active->kill_at = kill_at;
  }
}

}  // namespace detail

Result<report::RunReport> run(const manifest::Manifest& manifest, const Capacity& capacity,
                              const RunOptions& options) {
  report::RunReport report;
  report.started = report::Clock::now();
  report.run_id = make_run_id(report.started, static_cast<int>(::getpid()));
  report.manifest = manifest.path;
  report.capacity = capacity;
  std::filesystem::path dir =
      options.run_dir.empty() ? default_run_dir(manifest.path, report.run_id) : options.run_dir;
  auto run_dir = RunDir::create(dir, report.run_id);
  if (!run_dir) return run_dir.error();
  report.run_dir = run_dir->path();
  report.jobs.reserve(manifest.jobs.size());
  for (const manifest::Job& job : manifest.jobs) {
    report::JobReport record;
    record.name = job.name;
    record.request = job.request;
    report.jobs.push_back(std::move(record));
  }
  platform::ensure_standard_fds();
  platform::raise_fd_limit();
  // Cgroups before the sentinel, which cleans them if wp dies; the sentinel
  // before the signalfd, so that it inherits neither the fd nor the mask.
  JobControl control(options.control, run_dir->path());
  // The run's id, in every job's environment, is the mark by which the
  // sentinel finds a job's process that left its group.
  auto sentinel = platform::Sentinel::start(options.grace, control.cgroup_dirs(),
                                            std::string(kRunIdVariable) + "=" + report.run_id);
  if (!sentinel) return sentinel.error();
  auto signals = platform::SignalChannel::open(options.progress.enabled);
  if (!signals) return signals.error();
  platform::become_subreaper();
  detail::Runner runner(manifest, capacity, options, std::move(*run_dir), std::move(control),
                        std::move(*sentinel), std::move(*signals), std::move(report));
  return runner.run();
}

}  // namespace wp::exec
