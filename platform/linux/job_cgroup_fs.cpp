// Files, directories and processes of cgroups, the same for v1 and v2: what
// a job's cgroup, a run's cleanup and the sentinel all need.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "platform/linux/host_internal.h"
#include "platform/linux/job_cgroup_internal.h"
#include "util/log.h"
#include "util/unique_fd.h"

namespace wp::platform::detail {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The kernel freezes a cgroup asynchronously (v1 "FREEZING", v2 "frozen 0"
// in cgroup.events) and has no event for v1: a short bounded wait, after
// which killing goes ahead anyway (a task in uninterruptible sleep may never
// freeze, and a thawed SIGKILLed task still dies).
constexpr auto kFreezeWait = std::chrono::milliseconds(100);
constexpr auto kPoll = std::chrono::milliseconds(2);
// Rounds of killing: a process that forked before it was killed (no freezer
// here) leaves a child that the next round finds.
constexpr int kKillRounds = 5;

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPoll);
  }
  return true;
}

void collect_tree(const fs::path& dir, std::vector<fs::path>& out) {
  std::error_code error;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    std::error_code type_error;
    if (it->is_directory(type_error) && !it->is_symlink(type_error)) collect_tree(it->path(), out);
  }
  out.push_back(dir);
}

// Freezes the given trees for the lifetime of the object: v1 through the
// freezer hierarchy's freezer.state, v2 through cgroup.freeze when there is no
// cgroup.kill (which needs no freezing: it kills forks in flight too).
class FreezeScope {
 public:
  explicit FreezeScope(const std::vector<fs::path>& tops) {
    for (const fs::path& top : tops) {
      if (file_exists(top / "freezer.state")) {
        if (!write_file(top / "freezer.state", "FROZEN")) continue;
        v1_.push_back(top);
        wait_until([&] { return trim(read_text(top / "freezer.state").value_or("")) == "FROZEN"; },
                   kFreezeWait);
      } else if (!file_exists(top / "cgroup.kill") && file_exists(top / "cgroup.freeze")) {
        if (!write_file(top / "cgroup.freeze", "1")) continue;
        v2_.push_back(top);
        wait_until(
            [&] {
              return flat_keyed_value(read_text(top / "cgroup.events").value_or(""), "frozen") ==
                     1u;
            },
            kFreezeWait);
      }
    }
  }
  FreezeScope(const FreezeScope&) = delete;
  FreezeScope& operator=(const FreezeScope&) = delete;
  FreezeScope(FreezeScope&&) = delete;
  FreezeScope& operator=(FreezeScope&&) = delete;
  ~FreezeScope() {
    for (const fs::path& dir : v1_)
      (void)write_file(dir / "freezer.state", "THAWED");
    for (const fs::path& dir : v2_)
      (void)write_file(dir / "cgroup.freeze", "0");
  }

 private:
  std::vector<fs::path> v1_;
  std::vector<fs::path> v2_;
};

bool contains_self(const std::vector<fs::path>& dirs) {
  pid_t self = ::getpid();
  for (const fs::path& dir : dirs) {
    std::vector<pid_t> pids = read_pids(dir / "cgroup.procs");
    if (std::find(pids.begin(), pids.end(), self) != pids.end()) return true;
  }
  return false;
}

// One round: returns how many processes it found that earlier rounds had not.
size_t kill_round(const std::vector<fs::path>& tops, std::set<pid_t>& seen) {
  std::vector<fs::path> dirs = cgroup_trees(tops);
  // cgroup.kill first: on hybrid the cgroup2 tree beside the v1 ones holds
  // the same processes, and the v1 lists (no freezer there) then show only
  // what left it, rather than live pids to signal one by one.
  auto without_kill_file = std::stable_partition(dirs.begin(), dirs.end(), [](const fs::path& dir) {
    return file_exists(dir / "cgroup.kill");
  });
  // The sentinel, or wp in its v2 supervisor cgroup, may sit inside what it
  // cleans: then neither freeze (it would freeze itself) nor cgroup.kill.
  bool self_inside = contains_self(dirs);
  std::optional<FreezeScope> frozen;
  if (!self_inside) frozen.emplace(tops);
  pid_t self = ::getpid();
  size_t fresh = 0;
  for (auto dir = dirs.begin(); dir != dirs.end(); ++dir) {
    std::vector<pid_t> pids = read_pids(*dir / "cgroup.procs");
    bool use_kill_file = !self_inside && !pids.empty() && dir < without_kill_file;
    if (use_kill_file) (void)write_file(*dir / "cgroup.kill", "1");
    for (pid_t pid : pids) {
      if (pid <= 0 || pid == self) continue;  // 0: a process of another pid namespace
      if (seen.count(pid) != 0) continue;     // killed already, in this round or before
      if (!use_kill_file && ::kill(pid, SIGKILL) != 0) continue;
      seen.insert(pid);
      ++fresh;
    }
  }
  return fresh;
}

}  // namespace

bool file_exists(const fs::path& path) {
  std::error_code error;
  return fs::exists(path, error);
}

Status write_file(const fs::path& path, std::string_view text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd) {
    int error = errno;
    return make_error("cannot open {}: {}", path.string(), std::strerror(error));
  }
  return write_once(fd.get(), path, text);
}

Status write_once(int fd, const fs::path& path, std::string_view text) {
  ssize_t written = ::write(fd, text.data(), text.size());
  if (written < 0) {
    int error = errno;
    return make_error("cannot write '{}' to {}: {}", text, path.string(), std::strerror(error));
  }
  if (static_cast<size_t>(written) != text.size()) {
    return make_error("short write of '{}' to {}", text, path.string());
  }
  return Ok{};
}

std::optional<uint64_t> read_u64_file(const fs::path& path) {
  auto text = read_text(path);
  if (!text) return std::nullopt;
  return parse_u64(*text);
}

std::vector<pid_t> read_pids(const fs::path& procs) {
  std::vector<pid_t> pids;
  std::string text = read_text(procs).value_or("");
  for (std::string_view line : split(text, '\n')) {
    auto pid = parse_u64(line);
    if (pid && *pid <= 0x3fffffff) pids.push_back(static_cast<pid_t>(*pid));
  }
  return pids;
}

std::vector<std::string> read_controllers(const fs::path& path) {
  std::vector<std::string> out;
  std::string text = read_text(path).value_or("");
  for (std::string_view line : split(text, '\n')) {
    for (std::string_view word : split(line, ' ')) {
      word = trim(word);
      if (!word.empty()) out.emplace_back(word);
    }
  }
  return out;
}

std::optional<uint64_t> process_start_time(const fs::path& proc_root, const std::string& pid) {
  auto text = read_text(proc_root / pid / "stat");
  if (!text) return std::nullopt;
  return parse_stat_start_time(*text);
}

std::vector<fs::path> cgroup_trees(const std::vector<fs::path>& tops) {
  std::vector<fs::path> out;
  for (const fs::path& top : tops) {
    if (file_exists(top)) collect_tree(top, out);
  }
  return out;
}

size_t kill_cgroups(const std::vector<fs::path>& tops) {
  std::set<pid_t> seen;
  for (int round = 0; round < kKillRounds; ++round) {
    if (kill_round(tops, seen) == 0) break;
    // Give the killed a moment to leave cgroup.procs before looking again.
    std::this_thread::sleep_for(kPoll);
  }
  return seen.size();
}

bool remove_empty(const std::vector<fs::path>& dirs) {
  bool all = true;
  for (const fs::path& dir : dirs) {
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) all = false;
  }
  return all;
}

Status remove_cgroups(const std::vector<fs::path>& tops, std::chrono::milliseconds budget) {
  auto deadline = Clock::now() + budget;
  while (true) {
    std::string busy;
    for (const fs::path& dir : cgroup_trees(tops)) {
      if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) continue;
      int error = errno;
      // cgroupfs says EBUSY while a process (or a child cgroup) is inside;
      // anything else will not change by waiting.
      if (error != EBUSY) {
        return make_error("cannot remove cgroup {}: {}", dir.string(), std::strerror(error));
      }
      if (busy.empty()) busy = dir.string();
    }
    if (busy.empty()) return Ok{};
    if (Clock::now() >= deadline) {
      return make_error(
          "cannot remove cgroup {}: still busy after {} ms (a process in it is alive or not "
          "yet reaped by its parent)",
          busy, budget.count());
    }
    kill_cgroups(tops);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

CreatedDirs::~CreatedDirs() {
  for (auto it = made_.rbegin(); it != made_.rend(); ++it)
    ::rmdir(it->c_str());
}

int CreatedDirs::make(const fs::path& dir, bool existing_ok) {
  if (::mkdir(dir.c_str(), 0755) == 0) {
    made_.push_back(dir);
    return 0;
  }
  int error = errno;
  if (error == EEXIST && existing_ok) {
    std::error_code ignored;
    return fs::is_directory(dir, ignored) ? 0 : ENOTDIR;
  }
  return error;
}

Error mkdir_error(const fs::path& dir, int error) {
  std::string hint;
  if (error == EACCES || error == EPERM) hint = " (wp needs root or a cgroup delegated to it)";
  if (error == EROFS) hint = " (the cgroup filesystem is mounted read-only, as in most containers)";
  return make_error("cannot create cgroup {}: {}{}", dir.string(), std::strerror(error), hint);
}

std::optional<DeviceNumber> whole_disk(DeviceNumber device, const HostRoots& roots) {
  fs::path node = roots.sys / "dev/block" / fmt::format("{}:{}", device.major, device.minor);
  if (!file_exists(node)) return std::nullopt;
  if (!file_exists(node / "partition")) return device;
  // /sys/dev/block/8:1 links to .../block/sda/sda1; the disk is the parent.
  std::error_code error;
  fs::path real = fs::canonical(node, error);
  if (error) return std::nullopt;
  return parse_device_number(read_text(real.parent_path() / "dev").value_or(""));
}

std::vector<DeviceNumber> counted_disks(const HostRoots& roots) {
  std::vector<DeviceNumber> disks;
  std::error_code error;
  for (fs::directory_iterator it(roots.sys / "block", error), end; !error && it != end;
       it.increment(error)) {
    std::string name = it->path().filename().string();
    // RAM-backed devices do no disk I/O. Device-mapper and md stack on real
    // disks, whose rule already counts the I/O: a rule on both would count
    // it twice.
    bool skip = false;
    for (std::string_view prefix : {"loop", "ram", "zram", "dm-", "md"}) {
      if (name.rfind(prefix, 0) == 0) skip = true;
    }
    if (skip || !file_exists(it->path() / "queue")) continue;
    if (auto device = parse_device_number(read_text(it->path() / "dev").value_or(""))) {
      disks.push_back(*device);
    }
  }
  return disks;
}

}  // namespace wp::platform::detail

namespace wp::platform {

std::optional<DeviceNumber> disk_of(const std::filesystem::path& path, const HostRoots& roots) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return std::nullopt;
  // Major 0 is the kernel's anonymous devices: tmpfs, overlay, proc, btrfs subvolumes.
  if (::major(info.st_dev) == 0) return std::nullopt;
  return detail::whole_disk({::major(info.st_dev), ::minor(info.st_dev)}, roots);
}

void kill_and_remove_cgroup_dirs(const std::vector<std::filesystem::path>& run_dirs) {
  size_t killed = detail::kill_cgroups(run_dirs);
  Status removed = detail::remove_cgroups(run_dirs, detail::kRemoveBudget);
  auto log = log::get("cgroup");
  log->debug("killed {} processes in the cgroups of a dead run", killed);
  if (!removed) log->debug("{}", removed.error().message);
}

}  // namespace wp::platform
