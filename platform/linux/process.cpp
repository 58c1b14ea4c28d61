#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
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
namespace {

// RAII for the two posix_spawn attribute objects.
struct FileActions {
  posix_spawn_file_actions_t actions;
  FileActions() { posix_spawn_file_actions_init(&actions); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
};

struct SpawnAttr {
  posix_spawnattr_t attr;
  SpawnAttr() { posix_spawnattr_init(&attr); }
  ~SpawnAttr() { posix_spawnattr_destroy(&attr); }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
};

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings)
    out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// What the vforked child leaves in wp's memory, which it shares until exec,
// when a step before exec fails (glibc's posix_spawn reports the same way).
struct ChildFailure {
  int step = -1;  // a ChildStep; -1: exec succeeded
  int error = 0;
};
enum ChildStep { kEnterCgroup, kStdin, kRedirect, kChdir, kExec };

[[noreturn]] void child_fail(volatile ChildFailure* failure, ChildStep step) {
  failure->error = errno;
  failure->step = step;
  ::_exit(127);
}

// The child's side of spawn_into_cgroups: only async-signal-safe calls.
[[noreturn]] void exec_child(const SpawnRequest& request, char* const* argv, char* const* env,
                             volatile ChildFailure* failure) {
  for (int fd : request.cgroup_procs_fds) {
    if (::write(fd, "0", 1) != 1) child_fail(failure, kEnterCgroup);
  }
  ::setpgid(0, 0);
  if (request.stdin_fd >= 0) {
    if (::dup2(request.stdin_fd, 0) < 0) child_fail(failure, kStdin);
  } else {
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd < 0 || ::dup2(null_fd, 0) < 0) child_fail(failure, kStdin);
    if (null_fd != 0) ::close(null_fd);
  }
  if (::dup2(request.stdout_fd, 1) < 0 || ::dup2(request.stderr_fd, 2) < 0) {
    child_fail(failure, kRedirect);
  }
  if (::chdir(request.cwd.c_str()) != 0) child_fail(failure, kChdir);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  const sigset_t* only = request.default_signals ? &*request.default_signals : nullptr;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (only == nullptr || sigismember(only, sig) == 1) {
      ::sigaction(sig, &default_action, nullptr);  // fails harmlessly for SIGKILL, SIGSTOP
    }
  }
  sigset_t empty;
  sigemptyset(&empty);
  ::sigprocmask(SIG_SETMASK, &empty, nullptr);
  ::execve(request.executable.c_str(), argv, env);
  child_fail(failure, kExec);
}

// The job's directory could not be entered: not there (or not a directory),
// or not for us.
Error cwd_error(const std::filesystem::path& cwd, int error) {
  std::error_code ec;
  if (!std::filesystem::is_directory(cwd, ec)) {
    return make_error("cwd '{}' is not a directory", cwd.string());
  }
  return make_error("cannot change directory to '{}': {}", cwd.string(), std::strerror(error));
}

const char* step_name(int step) {
  switch (step) {
    case kEnterCgroup:
      return "cannot enter the job's cgroup";
    case kStdin:
      return "cannot open /dev/null as stdin";
    case kRedirect:
      return "cannot redirect output";
    default:
      return "cannot start";
  }
}

// vfork and our own steps instead of posix_spawn: posix_spawn has no step
// to join a cgroup before exec, and joining after it would let the job's
// first children (and the memory it touched) escape the cgroup. vfork, as
// posix_spawn itself does: the child borrows wp's memory until it execs
// (wp waits), so no page table is copied; a plain fork cost more than all
// the cgroup work of a small job. The child only makes system calls and
// never returns.
Result<pid_t> spawn_into_cgroups(const SpawnRequest& request, char* const* argv, char* const* env) {
  volatile ChildFailure failure;
  pid_t pid = ::vfork();
  if (pid < 0)
    return make_error("cannot start '{}': vfork: {}", request.executable.string(),
                      std::strerror(errno));
  if (pid == 0) exec_child(request, argv, env, &failure);
  // wp resumes once the child has exec'd or exited, so the child's own
  // setpgid has happened: its group exists before wp can signal it.
  if (failure.step < 0) return pid;
  ::waitpid(pid, nullptr, 0);
  if (failure.step == kChdir) return cwd_error(request.cwd, failure.error);
  return make_error("{} '{}': {}", step_name(failure.step), request.executable.string(),
                    std::strerror(failure.error));
}

}  // namespace

Result<pid_t> spawn(const SpawnRequest& request) {
  if (!request.cgroup_procs_fds.empty()) {
    std::vector<char*> argv = c_strings(request.argv);
    std::vector<char*> env = c_strings(request.env);
    return spawn_into_cgroups(request, argv.data(), env.data());
  }
  FileActions files;
  if (request.stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&files.actions, request.stdin_fd, 0);
  } else {
    posix_spawn_file_actions_addopen(&files.actions, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&files.actions, request.stdout_fd, 1);
  posix_spawn_file_actions_adddup2(&files.actions, request.stderr_fd, 2);
  posix_spawn_file_actions_addchdir_np(&files.actions, request.cwd.c_str());

  // wp blocks SIGCHLD/SIGINT/SIGTERM/SIGHUP for its signalfd and ignores
  // SIGPIPE; a job must start with neither.
  SpawnAttr attr;
  sigset_t empty;
  sigset_t all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setflags(&attr.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr.attr, 0);
  posix_spawnattr_setsigmask(&attr.attr, &empty);
  posix_spawnattr_setsigdefault(&attr.attr,
                                request.default_signals ? &*request.default_signals : &all);

  std::vector<char*> argv = c_strings(request.argv);
  std::vector<char*> env = c_strings(request.env);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, request.executable.c_str(), &files.actions, &attr.attr, argv.data(),
                       env.data());
  if (rc != 0) {
    // posix_spawn does not say which step failed: a missing directory is
    // the likely one to name.
    std::error_code ec;
    if (!std::filesystem::is_directory(request.cwd, ec)) return cwd_error(request.cwd, rc);
    return make_error("cannot start '{}': {}", request.executable.string(), std::strerror(rc));
  }
  return pid;
}

sigset_t non_default_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction action {};
    // glibc refuses its own signals (those of threads): EINVAL, skipped.
    if (::sigaction(sig, nullptr, &action) != 0) continue;
    if (action.sa_handler != SIG_DFL) sigaddset(&set, sig);
  }
  return set;
}

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
    if (::fcntl(fd, F_GETFD) == -1) ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
  }
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
