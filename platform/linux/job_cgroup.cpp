// CgroupRun and JobCgroup (platform/job_cgroup.h): what is the same for v1
// and v2 (names, creation, cleanup) here, the rest in job_cgroup_v1.cpp and
// job_cgroup_v2.cpp.
#include "platform/job_cgroup.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "platform/linux/job_cgroup_internal.h"
#include "util/log.h"
#include "util/unique_fd.h"

namespace wp::platform {
namespace {

namespace fs = std::filesystem;
using detail::CgroupPlace;

// A job name taken that many times over is a caller's bug, not a collision.
constexpr int kMaxNameTries = 1000;

std::vector<fs::path> dirs_of(const std::vector<CgroupPlace>& places) {
  std::vector<fs::path> dirs;
  dirs.reserve(places.size());
  for (const CgroupPlace& place : places)
    dirs.push_back(place.dir);
  return dirs;
}

// A stale run whose cgroup.procs show "0" holds processes of another pid
// namespace: its wp may well be alive there, with a pid we cannot see.
bool hides_processes(const std::vector<fs::path>& dirs) {
  for (const fs::path& dir : detail::cgroup_trees(dirs)) {
    for (pid_t pid : detail::read_pids(dir / "cgroup.procs")) {
      if (pid == 0) return true;
    }
  }
  return false;
}

// The sibling run directories of `parent` whose wp is gone.
void find_stale(const fs::path& parent, const std::string& own_name, const fs::path& proc,
                std::map<std::string, std::vector<fs::path>>& stale) {
  std::error_code error;
  for (fs::directory_iterator it(parent, error), end; !error && it != end; it.increment(error)) {
    std::error_code type_error;
    if (!it->is_directory(type_error) || it->is_symlink(type_error)) continue;
    std::string name = it->path().filename().string();
    auto run = detail::parse_run_name(name);
    if (!run || name == own_name) continue;
    // Alive only when the pid exists and started when the name says: a
    // recycled pid belongs to some other process.
    auto start = detail::process_start_time(proc, std::to_string(run->pid));
    if (start && *start == run->start_time) continue;
    stale[name].push_back(it->path());
  }
}

Result<std::vector<UniqueFd>> open_procs(const std::vector<CgroupPlace>& places) {
  std::vector<UniqueFd> fds;
  for (const CgroupPlace& place : places) {
    fs::path procs = place.dir / "cgroup.procs";
    UniqueFd fd(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
    if (fd) {
      fds.push_back(std::move(fd));
      continue;
    }
    int error = errno;
    // cgroupfs makes cgroup.procs with the directory; only a fixture tree
    // (a plain mkdir) lacks it.
    if (error == ENOENT) continue;
    return make_error("cannot open {}: {}", procs.string(), std::strerror(error));
  }
  return fds;
}

}  // namespace

// ---- JobCgroup ----

struct JobCgroup::Impl {
  int version = 0;
  std::string name;
  std::vector<CgroupPlace> places;
  std::vector<UniqueFd> procs;
  bool removed = false;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;
  ~Impl() {
    try {
      Status status = remove();
      if (!status) log::get("cgroup")->debug("{}", status.error().message);
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
    }
  }

  Status remove() {
    if (removed) return Ok{};
    procs.clear();
    std::vector<fs::path> dirs = dirs_of(places);
    // The common end of a job: its last process reaped, nothing inside, so
    // one rmdir per hierarchy does it. Only a busy one needs the full
    // kill-and-retry (this runs once per job: thousands of small jobs).
    if (detail::remove_empty(dirs)) {
      removed = true;
      return Ok{};
    }
    detail::kill_cgroups(dirs);
    Status status = detail::remove_cgroups(dirs, detail::kRemoveBudget);
    if (status) removed = true;
    return status;
  }
};

JobCgroup::JobCgroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JobCgroup::JobCgroup(JobCgroup&&) noexcept = default;
JobCgroup& JobCgroup::operator=(JobCgroup&&) noexcept = default;
JobCgroup::~JobCgroup() = default;

Status JobCgroup::apply(const JobLimits& limits) {
  if (!impl_) return make_error("this job cgroup was moved from");
  if (impl_->version == 1) return detail::v1_apply(impl_->places, limits);
  return detail::v2_apply(impl_->places.front().dir, limits);
}

std::vector<int> JobCgroup::procs_fds() const {
  std::vector<int> fds;
  if (!impl_) return fds;
  for (const UniqueFd& fd : impl_->procs)
    fds.push_back(fd.get());
  return fds;
}

Status JobCgroup::add(pid_t pid) {
  if (!impl_) return make_error("this job cgroup was moved from");
  std::vector<std::string> errors;
  for (const CgroupPlace& place : impl_->places) {
    Status status = detail::write_file(place.dir / "cgroup.procs", fmt::format("{}", pid));
    if (!status) errors.push_back(status.error().message);
  }
  return detail::join_errors(errors);
}

CgroupUsage JobCgroup::usage() const {
  if (!impl_) return {};
  if (impl_->version == 1) return detail::v1_usage(impl_->places);
  return detail::v2_usage(impl_->places.front().dir);
}

uint64_t JobCgroup::oom_kills() const {
  if (!impl_) return 0;
  if (impl_->version == 1) return detail::v1_oom_kills(impl_->places);
  return detail::v2_oom_kills(impl_->places.front().dir);
}

std::optional<double> JobCgroup::cpu_seconds() const {
  if (!impl_) return std::nullopt;
  if (impl_->version == 1) return detail::v1_cpu_seconds(impl_->places);
  return detail::v2_cpu_seconds(impl_->places.front().dir);
}

std::optional<Bytes> JobCgroup::memory_current() const {
  if (!impl_) return std::nullopt;
  if (impl_->version == 1) return detail::v1_memory_current(impl_->places);
  return detail::v2_memory_current(impl_->places.front().dir);
}

bool JobCgroup::populated() const {
  if (!impl_) return false;
  if (impl_->version == 2) return detail::v2_populated(impl_->places.front().dir);
  for (const CgroupPlace& place : impl_->places) {
    if (!detail::read_pids(place.dir / "cgroup.procs").empty()) return true;
  }
  return false;
}

size_t JobCgroup::kill() {
  if (!impl_) return 0;
  // Most jobs leave nothing behind: one look at cgroup.procs instead of a
  // freeze and a walk of the tree. (A v1 job's own sub-cgroups are not seen
  // here; remove() finds and kills them.)
  if (!populated()) return 0;
  return detail::kill_cgroups(dirs());
}

Status JobCgroup::freeze(bool frozen) {
  if (!impl_) return make_error("this job cgroup was moved from");
  if (impl_->version == 1) return detail::v1_freeze(impl_->places, frozen);
  return detail::v2_freeze(impl_->places.front().dir, frozen);
}

Status JobCgroup::remove() {
  if (!impl_) return Ok{};
  return impl_->remove();
}

const std::string& JobCgroup::name() const {
  static const std::string kNone;
  return impl_ ? impl_->name : kNone;
}

std::vector<fs::path> JobCgroup::dirs() const {
  if (!impl_) return {};
  return dirs_of(impl_->places);
}

// ---- CgroupRun ----

struct CgroupRun::Impl {
  HostRoots roots;
  std::string run_name;
  detail::RunLayout layout;
  // v1: the disks every job's blkio rule covers, listed once a run.
  std::vector<DeviceNumber> counted_disks;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;
  ~Impl() {
    try {
      std::vector<fs::path> tops = owned_dirs();
      detail::kill_cgroups(tops);
      Status status = detail::remove_cgroups(tops, detail::kRemoveBudget);
      if (!status) log::get("cgroup")->debug("{}", status.error().message);
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
    }
  }

  // What the run removes when it ends: its run directories, or, when wp
  // sits in <run>/supervisor, every job directory beside the supervisor.
  std::vector<fs::path> owned_dirs() const {
    std::vector<fs::path> dirs = dirs_of(layout.runs);
    if (!layout.supervisor) return dirs;
    std::vector<fs::path> jobs;
    std::error_code error;
    for (fs::directory_iterator it(dirs.front(), error), end; !error && it != end;
         it.increment(error)) {
      std::error_code type_error;
      if (it->is_directory(type_error) && it->path().filename() != "supervisor") {
        jobs.push_back(it->path());
      }
    }
    return jobs;
  }
};

CgroupRun::CgroupRun(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CgroupRun::CgroupRun(CgroupRun&&) noexcept = default;
CgroupRun& CgroupRun::operator=(CgroupRun&&) noexcept = default;
CgroupRun::~CgroupRun() = default;

Result<CgroupRun> CgroupRun::create(const CgroupRunOptions& options) {
  const HostRoots& roots = options.roots;
  int version = 0;
  switch (options.mode) {
    case CgroupMode::Off:
      return make_error("job cgroups are off (--cgroup off)");
    case CgroupMode::Auto:
      version = detail::v1_memory_mounted(roots) ? 1 : 2;
      break;
    case CgroupMode::V1:
      version = 1;
      break;
    case CgroupMode::V2:
      version = 2;
      break;
  }
  auto start = detail::process_start_time(roots.proc, "self");
  if (!start)
    return make_error("cannot read this process's start time from {}/self/stat",
                      roots.proc.string());
  auto impl = std::make_unique<Impl>();
  impl->roots = roots;
  impl->run_name = detail::format_run_name(::getpid(), *start);
  auto layout = version == 1 ? detail::make_v1_run(roots, impl->run_name, options.cpu_limits)
                             : detail::make_v2_run(roots, impl->run_name);
  if (!layout) return layout.error();
  impl->layout = std::move(*layout);
  if (version == 1) impl->counted_disks = detail::counted_disks(roots);
  log::get("cgroup")->debug("job cgroups: {}", impl->layout.description);
  return CgroupRun(std::move(impl));
}

int CgroupRun::version() const {
  return impl_ ? impl_->layout.version : 0;
}

std::string CgroupRun::describe() const {
  return impl_ ? impl_->layout.description : std::string();
}

const std::vector<std::string>& CgroupRun::missing() const {
  static const std::vector<std::string> kNone;
  return impl_ ? impl_->layout.missing : kNone;
}

std::vector<fs::path> CgroupRun::dirs() const {
  return impl_ ? dirs_of(impl_->layout.runs) : std::vector<fs::path>{};
}

Result<JobCgroup> CgroupRun::create_job(std::string_view name) {
  if (!impl_) return make_error("this cgroup run was moved from");
  std::string base = detail::sanitise_job_name(name);
  for (int n = 0; n < kMaxNameTries; ++n) {
    std::string candidate = n == 0 ? base : fmt::format("{}~{}", base, n);
    detail::CreatedDirs made;
    std::vector<CgroupPlace> places;
    int error = 0;
    for (const CgroupPlace& run : impl_->layout.runs) {
      places.push_back({run.dir / candidate, run.controllers});
      if ((error = made.make(places.back().dir, false)) != 0) break;
    }
    if (error == EEXIST) continue;  // `made` takes back what this name got
    if (error != 0) return detail::mkdir_error(places.back().dir, error);
    auto procs = open_procs(places);
    if (!procs) return procs.error();
    made.release();
    auto impl = std::make_unique<JobCgroup::Impl>();
    impl->version = impl_->layout.version;
    impl->name = candidate;
    impl->places = std::move(places);
    impl->procs = std::move(*procs);
    if (impl->version == 1) detail::v1_prepare_job(impl->places, impl_->counted_disks);
    log::get("cgroup")->debug("job cgroup {} created", candidate);
    return JobCgroup(std::move(impl));
  }
  return make_error("no free name for job cgroup '{}' after {} tries", base, kMaxNameTries);
}

size_t CgroupRun::clean_stale() {
  if (!impl_) return 0;
  std::map<std::string, std::vector<fs::path>> stale;
  for (const CgroupPlace& run : impl_->layout.runs) {
    find_stale(run.dir.parent_path(), impl_->run_name, impl_->roots.proc, stale);
  }
  auto log = log::get("cgroup");
  size_t removed = 0;
  for (const auto& [name, dirs] : stale) {
    if (hides_processes(dirs)) {
      log->debug("left {}: it holds processes of another pid namespace", name);
      continue;
    }
    size_t killed = detail::kill_cgroups(dirs);
    Status status = detail::remove_cgroups(dirs, detail::kRemoveBudget);
    if (!status) {
      log->debug("stale run {}: {}", name, status.error().message);
      continue;
    }
    log->debug("removed the cgroups of stale run {} ({} processes killed)", name, killed);
    ++removed;
  }
  return removed;
}

}  // namespace wp::platform
