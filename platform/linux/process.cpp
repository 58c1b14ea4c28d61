// Finding programs, signalling process groups, pipes and the subreaper's
// orphans. Starting a job's process is in spawn.cpp.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "platform/process.h"

namespace wp::platform {

bool is_executable_file(const std::filesystem::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

bool still_executable(const std::filesystem::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0;
}

Result<std::filesystem::path> resolve_executable(const std::string& name,
                                                 const std::string& path_var,
                                                 const std::filesystem::path& cwd) {
  if (name.find('/') != std::string::npos) {
    std::filesystem::path path(name);
    if (path.is_relative()) path = cwd / path;
    if (is_executable_file(path)) return path;
    return make_error("'{}' is not an executable file", path.string());
  }
  std::string_view rest = path_var;
  while (true) {
    size_t colon = rest.find(':');
    std::string_view dir = rest.substr(0, colon);
    std::filesystem::path candidate =
        (dir.empty() ? cwd : std::filesystem::path(dir)) / name;  // empty entry: the cwd
    if (is_executable_file(candidate)) return candidate;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return make_error("command not found: '{}' (not in PATH)", name);
}

bool signal_group(pid_t pgid, int signal) {
  return ::kill(-pgid, signal) == 0;
}

Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return make_error("pipe: {}", std::strerror(errno));
  Pipe pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  ::fcntl(pipe.read.get(), F_SETFL, O_NONBLOCK);  // a new pipe has no other status flags
  return pipe;
}

void become_subreaper() {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

std::vector<pid_t> list_children(const std::filesystem::path& proc_root) {
  std::vector<pid_t> children;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator(proc_root / "self" / "task", ec)) {
    std::ifstream in(task.path() / "children");
    pid_t pid = 0;
    while (in >> pid)
      children.push_back(pid);
  }
  return children;
}

ThreadChildren::ThreadChildren()
    : fd_(::open("/proc/thread-self/children", O_RDONLY | O_CLOEXEC)) {}

std::optional<std::vector<pid_t>> ThreadChildren::read() const {
  if (!fd_) return std::nullopt;
  std::string text;
  char buffer[4096];
  for (off_t offset = 0;;) {
    ssize_t n = ::pread(fd_.get(), buffer, sizeof buffer, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    text.append(buffer, static_cast<size_t>(n));
    offset += n;
    if (static_cast<size_t>(n) < sizeof buffer) break;
  }
  std::vector<pid_t> pids;
  pid_t pid = 0;
  bool in_number = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      pid = pid * 10 + (c - '0');
      in_number = true;
    } else if (in_number) {
      pids.push_back(pid);
      pid = 0;
      in_number = false;
    }
  }
  if (in_number) pids.push_back(pid);
  return pids;
}

void stop_orphans(const std::filesystem::path& proc_root) {
  // Bounded: each round reaps at least the children it saw.
  for (int round = 0; round < 100; ++round) {
    std::vector<pid_t> children = list_children(proc_root);
    if (children.empty()) return;
    for (pid_t child : children) {
      if (!signal_group(child, SIGKILL)) ::kill(child, SIGKILL);
    }
    for (pid_t child : children)
      ::waitpid(child, nullptr, 0);
  }
}

void ensure_standard_fds() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1) continue;
    // Standard output for reading only: a write to it still fails (EBADF),
    // as on the closed descriptor, so `wp run --json >&-` says it could not
    // write rather than throwing the document away with status 0.
    ::open("/dev/null", fd == 2 ? O_WRONLY : O_RDONLY);
  }
}

void ignore_broken_pipe() {
  ::signal(SIGPIPE, SIG_IGN);
}

void raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

std::string signal_name(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  if (abbrev == nullptr) return fmt::format("signal {}", signal);
  return std::string("SIG") + abbrev;
}

}  // namespace wp::platform
