#include "platform/sentinel.h"

#include "platform/job_cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>
#include <utility>

namespace wp::platform {
namespace {

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

void stop_groups(const std::set<pid_t>& groups, int64_t grace_ms) {
  for (pid_t pgid : groups)
    ::kill(-pgid, SIGTERM);
  timespec tick{0, 100'000'000};
  for (int64_t waited = 0; waited < grace_ms && any_alive(groups); waited += 100) {
    ::nanosleep(&tick, nullptr);
  }
  for (pid_t pgid : groups)
    ::kill(-pgid, SIGKILL);
}

// The sentinel's whole life: follow the messages until goodbye (wp ended
// normally) or end of file (wp died), and in the latter case stop every job.
[[noreturn]] void sentinel_main(int64_t grace_ms,
                                const std::vector<std::filesystem::path>& cgroup_dirs) {
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
  stop_groups(groups, grace_ms);
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
                                 std::vector<std::filesystem::path> cgroup_dirs) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return make_error("pipe: {}", std::strerror(errno));
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) return make_error("fork: {}", std::strerror(errno));
  if (pid == 0) {
    detach_child(read_end.get());
    sentinel_main(grace.count(), cgroup_dirs);
  }
  return Sentinel(std::move(write_end), pid);
}

Sentinel::Sentinel(Sentinel&& other) noexcept
    : channel_(std::move(other.channel_)), pid_(std::exchange(other.pid_, -1)) {}

Sentinel::~Sentinel() {
  if (pid_ < 0) return;
  send('q', 0);
  channel_.reset();
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

void Sentinel::send(char op, pid_t pgid) {
  Message m{op, {}, static_cast<int32_t>(pgid)};
  while (::write(channel_.get(), &m, sizeof m) < 0 && errno == EINTR) {
  }
}

void Sentinel::watch(pid_t pgid) {
  send('+', pgid);
}
void Sentinel::forget(pid_t pgid) {
  send('-', pgid);
}

}  // namespace wp::platform
