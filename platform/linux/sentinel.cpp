#include "platform/sentinel.h"

#include "platform/job_cgroup.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>
#include <string_view>
#include <utility>

#include "platform/linux/host_internal.h"

namespace wp::platform {

// Zero-filled by mmap, so neither side constructs it: both reach the fields
// through std::atomic_ref. A slot holds a running job's process group, or 0.
constexpr uint32_t kSlots = 65535;
struct Sentinel::Table {
  uint32_t used;  // slots handed out so far: the sentinel reads [0, used)
  int32_t pgids[kSlots];
};

namespace {

using Table = Sentinel::Table;

// One message: an operation and a process group. 8 bytes, well under
// PIPE_BUF, so each write is atomic.
struct Message {
  char op;  // '+' watch, '-' forget, 'q' goodbye
  char pad[3];
  int32_t pgid;
};

constexpr int kChannelFd = 3;

bool any_alive(const std::set<pid_t>& groups) {
  for (pid_t pgid : groups) {
    if (::kill(-pgid, 0) == 0) return true;
  }
  return false;
}

// A process that carries the run's mark, held by a pidfd where the kernel
// has them (Linux 5.3): a signal then reaches that process, never one that
// took its pid after it ended.
struct Marked {
  pid_t pid = 0;
  UniqueFd pidfd;
};

bool has_entry(std::string_view environment, std::string_view mark) {
  for (size_t at = environment.find(mark); at != std::string_view::npos;
       at = environment.find(mark, at + 1)) {
    size_t end = at + mark.size();
    if ((at == 0 || environment[at - 1] == '\0') &&
        (end == environment.size() || environment[end] == '\0'))
      return true;
  }
  return false;
}

// Every process whose environment holds `mark` as an entry: the one it was
// started with, which /proc shows whatever it did since, so a job's daemon
// carries the mark however it left its group (unless it exec'd with another
// environment). A zombie shows none. Not this sentinel, nor the sentinel of
// a wp that one of the jobs runs: that one still has its own jobs to stop.
std::vector<Marked> find_marked(const std::string& mark) {
  std::vector<Marked> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid == ::getpid()) continue;
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd && errno == ESRCH) continue;
    auto environment = detail::read_text(entry.path() / "environ");
    if (!environment || !has_entry(*environment, mark)) continue;
    if (detail::read_text(entry.path() / "comm") == "wp-sentinel\n") continue;
    found.push_back({pid, std::move(pidfd)});
  }
  return found;
}

void send_signal(const Marked& process, int sig) {
  if (process.pidfd) {
    ::syscall(SYS_pidfd_send_signal, process.pidfd.get(), sig, nullptr, 0);
  } else {
    ::kill(process.pid, sig);
  }
}

// A pidfd becomes readable when its process has ended.
bool any_alive(const std::vector<Marked>& processes) {
  for (const Marked& process : processes) {
    if (process.pidfd) {
      pollfd ended{process.pidfd.get(), POLLIN, 0};
      if (::poll(&ended, 1, 0) == 0) return true;
    } else if (::kill(process.pid, 0) == 0) {
      return true;
    }
  }
  return false;
}

// SIGKILL to every process that carries the mark, until none is left: one
// that forked meanwhile left a child the next round finds. Bounded, as the
// run's processes could fork faster than they are killed.
void kill_marked(const std::string& mark) {
  timespec pause{0, 10'000'000};
  for (int round = 0; round < 100; ++round) {
    std::vector<Marked> left = find_marked(mark);
    if (left.empty()) return;
    for (const Marked& process : left)
      send_signal(process, SIGKILL);
    ::nanosleep(&pause, nullptr);
  }
}

// The jobs' groups, and the processes that carry the mark but left their
// group (a daemon that called setsid), get SIGTERM, the grace period to end,
// and SIGKILL.
void stop_jobs(const std::set<pid_t>& groups, const std::string& mark, int64_t grace_ms) {
  std::vector<Marked> strays;
  if (!mark.empty()) strays = find_marked(mark);
  for (pid_t pgid : groups)
    ::kill(-pgid, SIGTERM);
  for (const Marked& process : strays)
    send_signal(process, SIGTERM);
  timespec tick{0, 100'000'000};
  for (int64_t waited = 0; waited < grace_ms && (any_alive(groups) || any_alive(strays));
       waited += 100) {
    ::nanosleep(&tick, nullptr);
  }
  for (pid_t pgid : groups)
    ::kill(-pgid, SIGKILL);
  if (!mark.empty()) kill_marked(mark);
}

void add_table(Table* table, std::set<pid_t>& groups) {
  if (table == nullptr) return;
  uint32_t used = std::min(kSlots, std::atomic_ref(table->used).load(std::memory_order_acquire));
  for (uint32_t slot = 0; slot < used; ++slot) {
    int32_t pgid = std::atomic_ref(table->pgids[slot]).load(std::memory_order_acquire);
    if (pgid > 0) groups.insert(pgid);
  }
}

// The sentinel's whole life: follow the messages until goodbye (wp ended
// normally) or end of file (wp died), and in the latter case stop every job,
// those in the table and those sent.
[[noreturn]] void sentinel_main(int64_t grace_ms, Table* table,
                                const std::vector<std::filesystem::path>& cgroup_dirs,
                                const std::string& mark) {
  std::set<pid_t> groups;
  Message m{};
  while (true) {
    ssize_t n = ::read(kChannelFd, &m, sizeof m);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof m)) break;  // wp is gone
    if (m.op == 'q') ::_exit(0);
    if (m.op == '+') groups.insert(m.pgid);
    if (m.op == '-') groups.erase(m.pgid);
  }
  add_table(table, groups);
  stop_jobs(groups, mark, grace_ms);
  if (!cgroup_dirs.empty()) kill_and_remove_cgroup_dirs(cgroup_dirs);
  ::_exit(0);
}

// In the child: nothing of wp's but the channel, and no terminal signals: a
// Ctrl-C reaches the whole foreground group, and wp handles it.
void detach_child(int channel) {
  ::dup2(channel, kChannelFd);
  ::close_range(kChannelFd + 1, ~0U, 0);
  int null = ::open("/dev/null", O_RDWR);
  for (int fd = 0; fd <= 2; ++fd)
    ::dup2(null, fd);
  if (null > 2) ::close(null);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE}) {
    ::signal(sig, SIG_IGN);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // A session of its own: `kill -9 -- -PGID` of wp's process group (how
  // CI systems cancel a step) must not take the guard down with wp.
  ::setsid();
  ::prctl(PR_SET_NAME, "wp-sentinel", 0, 0, 0);
}

}  // namespace

Result<Sentinel> Sentinel::start(std::chrono::milliseconds grace,
                                 std::vector<std::filesystem::path> cgroup_dirs, std::string mark) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return make_error("pipe: {}", std::strerror(errno));
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  // Pages are only made as slots are used. Without the mapping, messages do.
  void* shared = ::mmap(nullptr, sizeof(Table), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  auto* table = shared == MAP_FAILED ? nullptr : static_cast<Table*>(shared);
  pid_t pid = ::fork();
  if (pid < 0) {
    int error = errno;
    if (table != nullptr) ::munmap(table, sizeof(Table));
    return make_error("fork: {}", std::strerror(error));
  }
  if (pid == 0) {
    detach_child(read_end.get());
    sentinel_main(grace.count(), table, cgroup_dirs, mark);
  }
  return Sentinel(std::move(write_end), pid, table);
}

Sentinel::Sentinel(Sentinel&& other) noexcept
    : channel_(std::move(other.channel_)),
      pid_(std::exchange(other.pid_, -1)),
      table_(std::exchange(other.table_, nullptr)),
      slot_of_(std::move(other.slot_of_)),
      free_slots_(std::move(other.free_slots_)) {}

Sentinel::~Sentinel() {
  if (pid_ >= 0) {
    send('q', 0);
    channel_.reset();
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  if (table_ != nullptr) ::munmap(table_, sizeof(Table));
}

void Sentinel::send(char op, pid_t pgid) {
  Message m{op, {}, static_cast<int32_t>(pgid)};
  while (::write(channel_.get(), &m, sizeof m) < 0 && errno == EINTR) {
  }
}

void Sentinel::watch(pid_t pgid) {
  if (table_ == nullptr) return send('+', pgid);
  uint32_t slot = 0;
  if (auto known = slot_of_.find(pgid); known != slot_of_.end()) {
    slot = known->second;
  } else if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    std::atomic_ref used(table_->used);
    slot = used.load(std::memory_order_relaxed);
    if (slot >= kSlots) return send('+', pgid);
    // The group first, then the slot count that makes the sentinel read it.
    std::atomic_ref(table_->pgids[slot]).store(pgid, std::memory_order_release);
    used.store(slot + 1, std::memory_order_release);
  }
  std::atomic_ref(table_->pgids[slot]).store(pgid, std::memory_order_release);
  slot_of_[pgid] = slot;
}

void Sentinel::forget(pid_t pgid) {
  auto known = slot_of_.find(pgid);
  if (known == slot_of_.end()) return send('-', pgid);
  std::atomic_ref(table_->pgids[known->second]).store(0, std::memory_order_release);
  free_slots_.push_back(known->second);
  slot_of_.erase(known);
}

}  // namespace wp::platform
