// Launching and stopping job processes. Implemented per platform
// (platform/linux/process.cpp).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"
#include "util/unique_fd.h"

namespace wp::platform {

// How a child enters its job's cgroups, before it runs one instruction of
// the job (see JobCgroup::entry).
struct CgroupEntry {
  // A cgroup v2 directory (an O_PATH fd will do) the child is created in,
  // with clone3(CLONE_INTO_CGROUP): no migration afterwards, whose kernel
  // lock holds up every fork and exit of the machine while it is taken.
  // -1: none. Never without `dir_procs`.
  int dir = -1;
  // That directory's cgroup.procs, which the child writes "0" to instead
  // where the kernel cannot create it there (before Linux 5.7, or a seccomp
  // filter that refuses clone3, as containers' default ones do), and on the
  // paths that wait for the exec.
  int dir_procs = -1;
  // More cgroup.procs files the child writes "0" to (cgroup v1: one a
  // hierarchy).
  std::vector<int> procs;
};

struct SpawnRequest {
  std::filesystem::path executable;  // absolute path (see resolve_executable)
  std::vector<std::string> argv;     // argv[0] included
  std::vector<std::string> env;      // complete environment, "KEY=value"
  std::filesystem::path cwd;
  int stdout_fd = -1;  // becomes the child's fd 1
  int stderr_fd = -1;  // becomes the child's fd 2
  // The cgroups the child enters before exec.
  CgroupEntry cgroup;
  // /dev/null open for reading, the child's stdin; -1: the child opens it.
  int stdin_fd = -1;
  // The signals the child sets back to their default action; nullopt: every
  // one, 64 system calls. exec does it for a caught signal, but an ignored
  // one stays ignored, so non_default_signals() read once is enough.
  std::optional<sigset_t> default_signals;
  // Wait for the exec (vfork or posix_spawn) even where spawn() need not.
  bool wait_for_exec = false;
  // The child makes its group the foreground group of the terminal on its
  // stdin before it execs, so that it cannot read before it is there (see
  // Foreground in platform/terminal.h; the parent gives it too).
  bool foreground = false;
};

// The signals whose action is not the default (ignored, or caught), read
// once by a caller that spawns many children after it has set its own
// (wp ignores SIGPIPE): SpawnRequest::default_signals.
sigset_t non_default_signals();

// A process spawn() started. Until it has exec'd, the child reads its
// request from wp's memory, which it shares: the Spawned holds that memory
// and must not go before the exec, which reaping the process ensures (one
// destroyed earlier leaves its memory to the child).
class Spawned {
 public:
  struct Child;  // platform/linux/spawn.cpp
  Spawned(pid_t pid, std::unique_ptr<Child> child);
  Spawned(Spawned&&) noexcept;
  Spawned& operator=(Spawned&&) noexcept;
  Spawned(const Spawned&) = delete;
  Spawned& operator=(const Spawned&) = delete;
  ~Spawned();

  pid_t pid() const { return pid_; }
  // Once the process is reaped: why it never ran its program, when a step
  // between fork and exec failed (it then exits with status 127).
  std::optional<Error> failure() const;

 private:
  pid_t pid_ = -1;
  std::unique_ptr<Child> child_;  // nullptr: spawn() waited for the exec
};

// Starts the process in a new process group of its own (pgid == pid), stdin
// from /dev/null, default signal dispositions and an empty signal mask. Only
// fds 0-2 are inherited: wp opens every other fd with O_CLOEXEC. With a
// `cgroup` entry the child is created in (or moves itself into) those
// cgroups before exec, so nothing it does escapes them; a failure there
// fails the spawn.
//
// On x86-64 spawn() returns as soon as the child exists, which then does its
// steps and execs on its own (so Spawned::failure() tells of a failed step);
// elsewhere it waits for the exec and returns a failed step as the Error.
Result<Spawned> spawn(SpawnRequest request);

// Finds `name` on `path_var` ("/usr/bin:/bin") as execvp would; a name with a
// slash is taken relative to `cwd`.
Result<std::filesystem::path> resolve_executable(const std::string& name,
                                                 const std::string& path_var,
                                                 const std::filesystem::path& cwd);

// A regular file this process may execute.
bool is_executable_file(const std::filesystem::path& path);
// One stat instead of two calls: still a regular file with an execute bit,
// for a file is_executable_file accepted earlier.
bool still_executable(const std::filesystem::path& path);

// Signals a whole process group. Returns false when no process was left in it.
bool signal_group(pid_t pgid, int signal);

// A pipe whose read end is non-blocking, both ends close-on-exec.
struct Pipe {
  UniqueFd read;
  UniqueFd write;
};
Result<Pipe> make_pipe();

// Makes this process the reaper of its orphaned descendants, so that a job's
// grandchild that escaped its process group is still ours to find and stop.
void become_subreaper();
// Kills and reaps every remaining child of this process (and the process
// group each leads), round after round, until none is left: the processes
// that escaped their job and were adopted by the subreaper.
void stop_orphans(const std::filesystem::path& proc_root = "/proc");
// Pids of this process's direct children, from <proc_root>/self/task/*/children.
std::vector<pid_t> list_children(const std::filesystem::path& proc_root = "/proc");

// The children of the thread that made it, read again through one
// descriptor (/proc/thread-self/children, printed afresh for each read from
// the start). A subreaper's orphans become children of the thread that
// started their oldest ancestor that is gone, so for wp the thread that
// spawns the jobs sees them all.
class ThreadChildren {
 public:
  ThreadChildren();  // opens the list; read() says nothing if it could not
  // The children now; nothing when the list cannot be read.
  std::optional<std::vector<pid_t>> read() const;

 private:
  UniqueFd fd_;
};

// Opens /dev/null on any of fds 0-2 that is closed, so that no pipe or log
// can land there and be clobbered by a child's dup2: for writing on 2 only,
// so that what wp writes to a closed standard output still fails.
void ensure_standard_fds();
// A reader closing wp's output (`wp plan --json | head`) makes a write fail
// with EPIPE, which each command turns into the exit status its man page
// gives, rather than a death by SIGPIPE. Jobs start with SIGPIPE at its
// default again (non_default_signals).
void ignore_broken_pipe();
// Raises the soft limit on open files to the hard one: every running job
// holds up to four fds, and the default of 1024 is a low ceiling.
void raise_fd_limit();

std::string signal_name(int signal);  // "SIGKILL"

}  // namespace wp::platform
