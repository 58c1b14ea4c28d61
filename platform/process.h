// Launching and stopping job processes. Implemented per platform
// (platform/linux/process.cpp).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"
#include "util/unique_fd.h"

namespace wp::platform {

struct SpawnRequest {
  std::filesystem::path executable;  // absolute path (see resolve_executable)
  std::vector<std::string> argv;     // argv[0] included
  std::vector<std::string> env;      // complete environment, "KEY=value"
  std::filesystem::path cwd;
  int stdout_fd = -1;  // becomes the child's fd 1
  int stderr_fd = -1;  // becomes the child's fd 2
};

// Starts the process in a new process group of its own (pgid == pid), stdin
// from /dev/null, default signal dispositions and an empty signal mask. Only
// fds 0-2 are inherited: wp opens every other fd with O_CLOEXEC.
Result<pid_t> spawn(const SpawnRequest& request);

// Finds `name` on `path_var` ("/usr/bin:/bin") as execvp would; a name with a
// slash is taken relative to `cwd`.
Result<std::filesystem::path> resolve_executable(const std::string& name,
                                                 const std::string& path_var,
                                                 const std::filesystem::path& cwd);

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
// Pids of this process's direct children (from /proc/self/task/*/children).
std::vector<pid_t> list_children();

std::string signal_name(int signal);  // "SIGKILL"

}  // namespace wp::platform
