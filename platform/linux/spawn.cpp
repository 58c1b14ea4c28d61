// Starting a job's process (platform/process.h: spawn). The steps between
// fork and exec are wp's own, not posix_spawn's: posix_spawn has no step to
// join a cgroup before exec, and joining after it would let the job's first
// children (and the memory it touched) escape the cgroup.
//
// On x86-64 the child is a clone that shares wp's memory (no page table is
// copied: a plain fork cost more than all the cgroup work of a small job)
// and that wp does not wait for: a vfork child blocks its parent until it
// execs, and with every core busy it waits for one first, which kept wp's
// event loop blocked for 220 us a job, longer than its own work for it. The
// child runs on a stack of its own and makes raw system calls only: it
// shares wp's thread-local storage, so a glibc wrapper that failed would
// write errno under the event loop's feet. The kernel clears a word when
// the child execs or exits (CLONE_CHILD_CLEARTID): until then its memory
// stays. Elsewhere, vfork (which waits) and the same steps through glibc.
//
// A job with a cgroup v2 cgroup is created inside it (clone3 with
// CLONE_INTO_CGROUP) rather than moved in: a move takes a lock that every
// fork and exit on the machine takes too, and with two small jobs at a time
// the moves cost more than the rest of wp's work for a job. cgroup v1 has no
// such way: the child writes to each hierarchy's cgroup.procs.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "platform/process.h"

namespace wp::platform {

namespace {

enum ChildStep { kEnterCgroup, kStdin, kRedirect, kChdir, kExec };

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

Error step_error(const SpawnRequest& request, int step, int error) {
  if (step == kChdir) return cwd_error(request.cwd, error);
  return make_error("{} '{}': {}", step_name(step), request.executable.string(),
                    std::strerror(error));
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings)
    out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

// What a child reads from wp's memory until it execs, and what it leaves
// there when a step fails. The child reads only the plain fields: no call
// into the standard library (which a debug build does not inline, and which
// a sanitizer instruments) runs on its stack.
struct Spawned::Child {
  SpawnRequest request;
  std::vector<char*> argv;
  std::vector<char*> env;
  std::unique_ptr<std::byte[]> stack;
  // From the request, for the child:
  int cgroup_dir_procs = -1;  // written unless the child was created inside
  bool created_in_cgroup = false;
  const int* cgroup_fds = nullptr;
  size_t cgroup_fd_count = 0;
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  const char* cwd = nullptr;
  const char* executable = nullptr;
  char* const* argv_data = nullptr;
  char* const* env_data = nullptr;
  uint64_t default_signals = 0;  // bit n-1: set signal n back to SIG_DFL
  bool foreground = false;
  // Written by the kernel and the child:
  int running = 1;  // cleared by the kernel at the child's exec or exit
  int step = -1;    // a ChildStep that failed; -1: none
  int error = 0;
};

namespace {

#if defined(__x86_64__)

constexpr size_t kChildStack = 32 * 1024;  // the child uses a few hundred bytes

// The kernel's struct sigaction (not glibc's): handler, flags, restorer, mask.
struct KernelSigaction {
  uintptr_t handler;
  unsigned long flags;
  uintptr_t restorer;
  uint64_t mask;
};

// A system call without glibc: returns -errno on failure, touches no errno.
__attribute__((no_sanitize("address", "undefined"), always_inline)) inline long raw_syscall(
    long number, long a = 0, long b = 0, long c = 0, long d = 0) {
  long result = 0;
  register long r10 asm("r10") = d;
  asm volatile("syscall"
               : "=a"(result)
               : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10)
               : "rcx", "r11", "memory");
  return result;
}

template <typename T>
__attribute__((no_sanitize("address", "undefined"), always_inline)) inline long arg(T* pointer) {
  return reinterpret_cast<long>(pointer);
}

__attribute__((no_sanitize("address", "undefined"), noreturn)) void child_failed(
    Spawned::Child* child, ChildStep step, long result) {
  child->error = result < 0 ? static_cast<int>(-result) : EIO;
  child->step = step;
  raw_syscall(SYS_exit, 127);
  __builtin_unreachable();
}

__attribute__((no_sanitize("address", "undefined"), always_inline)) inline void enter_cgroup(
    Spawned::Child* child, int procs_fd) {
  long written = raw_syscall(SYS_write, procs_fd, arg("0"), 1);
  if (written != 1) child_failed(child, kEnterCgroup, written);
}

// The child: the same steps as exec_child below, in raw system calls.
__attribute__((no_sanitize("address", "undefined"))) int clone_child(void* data) {
  auto* child = static_cast<Spawned::Child*>(data);
  if (!child->created_in_cgroup && child->cgroup_dir_procs >= 0) {
    enter_cgroup(child, child->cgroup_dir_procs);
  }
  for (size_t i = 0; i < child->cgroup_fd_count; ++i)
    enter_cgroup(child, child->cgroup_fds[i]);
  raw_syscall(SYS_setpgid, 0, 0);
  long result = 0;
  if (child->stdin_fd >= 0) {
    result = raw_syscall(SYS_dup2, child->stdin_fd, 0);
  } else {
    long null_fd = raw_syscall(SYS_openat, AT_FDCWD, arg("/dev/null"), O_RDONLY);
    result = null_fd < 0 ? null_fd : raw_syscall(SYS_dup2, null_fd, 0);
    if (null_fd > 0) raw_syscall(SYS_close, null_fd);
  }
  if (result < 0) child_failed(child, kStdin, result);
  if (child->foreground) {
    // From a background group TIOCSPGRP raises SIGTTOU unless blocked; the
    // mask is emptied before exec. A failure leaves it to the parent's try.
    uint64_t ttou = uint64_t{1} << (SIGTTOU - 1);
    raw_syscall(SYS_rt_sigprocmask, SIG_BLOCK, arg(&ttou), 0, sizeof ttou);
    int self = static_cast<int>(raw_syscall(SYS_getpid));
    raw_syscall(SYS_ioctl, 0, TIOCSPGRP, arg(&self));
  }
  if ((result = raw_syscall(SYS_dup2, child->stdout_fd, 1)) < 0 ||
      (result = raw_syscall(SYS_dup2, child->stderr_fd, 2)) < 0) {
    child_failed(child, kRedirect, result);
  }
  if ((result = raw_syscall(SYS_chdir, arg(child->cwd))) < 0) child_failed(child, kChdir, result);
  KernelSigaction default_action;  // SIG_DFL
  default_action.handler = 0;
  default_action.flags = 0;
  default_action.restorer = 0;
  default_action.mask = 0;
  for (int sig = 1; sig <= 64; ++sig) {
    if ((child->default_signals >> (sig - 1) & 1) == 0) continue;
    // Fails harmlessly for SIGKILL and SIGSTOP.
    raw_syscall(SYS_rt_sigaction, sig, arg(&default_action), 0, sizeof default_action.mask);
  }
  uint64_t empty = 0;
  raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, arg(&empty), 0, sizeof empty);
  result =
      raw_syscall(SYS_execve, arg(child->executable), arg(child->argv_data), arg(child->env_data));
  child_failed(child, kExec, result);
}

// The kernel's struct clone_args up to `cgroup` (CLONE_ARGS_SIZE_VER2):
// glibc 2.36 has neither the struct nor a clone3 wrapper.
struct CloneArgs {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
  uint64_t set_tid;
  uint64_t set_tid_size;
  uint64_t cgroup;
};
constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;  // CLONE_INTO_CGROUP, Linux 5.7

// clone3 sharing wp's memory, the child on `args->stack`: it owns nothing of
// this frame, so the instructions right after the system call call
// fn(data) and exit with what it returns (it execs or exits first). The
// parent gets the pid or -errno.
__attribute__((no_sanitize("address", "undefined"))) long clone3_vm(CloneArgs* args,
                                                                    int (*fn)(void*), void* data) {
  long result = 0;
  asm volatile(
      "syscall\n\t"
      "testq %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "movq %[data], %%rdi\n\t"
      "callq *%[fn]\n\t"
      "movq %%rax, %%rdi\n\t"
      "movl %[exit], %%eax\n\t"
      "syscall\n\t"
      "hlt\n"
      "1:"
      : "=a"(result)
      : "a"(SYS_clone3), "D"(args),
        "S"(sizeof *args), [fn] "r"(fn), [data] "r"(data), [exit] "i"(SYS_exit)
      : "rcx", "r11", "memory");
  return result;
}

// Set once the kernel said it has no clone3 or no CLONE_INTO_CGROUP (a
// seccomp filter's ENOSYS included): every later child moves itself in.
std::atomic<bool> clone_into_cgroup_unavailable{false};

// Starts clone_child in the cgroup v2 directory `dir_fd`: the pid, or -errno.
long clone_into_cgroup(Spawned::Child* child, uintptr_t stack_top, int dir_fd) {
  if (clone_into_cgroup_unavailable.load(std::memory_order_relaxed)) return -ENOSYS;
  CloneArgs args{};
  args.flags = CLONE_VM | CLONE_CHILD_CLEARTID | kCloneIntoCgroup;
  args.child_tid = reinterpret_cast<uintptr_t>(&child->running);
  args.exit_signal = SIGCHLD;
  args.stack = reinterpret_cast<uintptr_t>(child->stack.get());
  args.stack_size = stack_top - args.stack;
  args.cgroup = static_cast<uint64_t>(dir_fd);
  child->created_in_cgroup = true;  // before the child runs: it reads it
  long pid = clone3_vm(&args, clone_child, child);
  if (pid < 0) {
    child->created_in_cgroup = false;  // no child: nobody reads it
    // Older kernels: no clone3 (ENOSYS), or no such flag or field (EINVAL,
    // E2BIG); seccomp filters answer ENOSYS or EPERM (a cgroup's own
    // refusals are EACCES, ENOENT, EBUSY, EOPNOTSUPP). Those are this
    // cgroup's: the fallback's write will fail the same way and say why.
    if (pid == -ENOSYS || pid == -EINVAL || pid == -E2BIG || pid == -EPERM) {
      clone_into_cgroup_unavailable.store(true, std::memory_order_relaxed);
    }
  }
  return pid;
}

uint64_t signal_bits(const std::optional<sigset_t>& signals) {
  uint64_t bits = 0;
  for (int sig = 1; sig <= 64; ++sig) {
    if (!signals || sigismember(&*signals, sig) == 1) bits |= uint64_t{1} << (sig - 1);
  }
  return bits;
}

Result<Spawned> spawn_without_waiting(SpawnRequest request) {
  auto child = std::make_unique<Spawned::Child>();
  child->request = std::move(request);
  // Pointers into the strings where they now live.
  const SpawnRequest& held = child->request;
  child->argv = c_strings(held.argv);
  child->env = c_strings(held.env);
  child->cgroup_dir_procs = held.cgroup.dir_procs;
  child->cgroup_fds = held.cgroup.procs.data();
  child->cgroup_fd_count = held.cgroup.procs.size();
  child->stdin_fd = held.stdin_fd;
  child->stdout_fd = held.stdout_fd;
  child->stderr_fd = held.stderr_fd;
  child->cwd = held.cwd.c_str();
  child->executable = held.executable.c_str();
  child->argv_data = child->argv.data();
  child->env_data = child->env.data();
  child->default_signals = signal_bits(held.default_signals);
  child->foreground = held.foreground;
  child->stack.reset(new std::byte[kChildStack]);
  // The top, 16-byte aligned as the ABI wants at a call.
  auto top = reinterpret_cast<uintptr_t>(child->stack.get() + kChildStack) & ~uintptr_t{15};
  pid_t pid = -1;
  if (held.cgroup.dir >= 0)
    pid = static_cast<pid_t>(clone_into_cgroup(child.get(), top, held.cgroup.dir));
  // Else, or when the kernel would not: the child moves itself in.
  if (pid < 0) {
    pid = ::clone(clone_child, reinterpret_cast<void*>(top),
                  CLONE_VM | CLONE_CHILD_CLEARTID | SIGCHLD, child.get(), nullptr, nullptr,
                  &child->running);
  }
  if (pid < 0) {
    int error = errno;
    child->running = 0;
    return make_error("cannot start '{}': clone: {}", child->request.executable.string(),
                      std::strerror(error));
  }
  // The child makes its group too: whichever comes first, the group exists
  // before wp can signal it (once the child has exec'd this fails, EACCES).
  ::setpgid(pid, pid);
  return Spawned(pid, std::move(child));
}

#endif

// ---- waiting for the exec: vfork, or posix_spawn without cgroups ----

// What the vforked child leaves in wp's memory, which it shares until exec,
// when a step before exec fails (glibc's posix_spawn reports the same way).
struct ChildFailure {
  int step = -1;  // a ChildStep; -1: exec succeeded
  int error = 0;
};

[[noreturn]] void child_fail(volatile ChildFailure* failure, ChildStep step) {
  failure->error = errno;
  failure->step = step;
  ::_exit(127);
}

// The child's side of spawn_into_cgroups: only async-signal-safe calls.
[[noreturn]] void exec_child(const SpawnRequest& request, char* const* argv, char* const* env,
                             volatile ChildFailure* failure) {
  if (request.cgroup.dir_procs >= 0 && ::write(request.cgroup.dir_procs, "0", 1) != 1) {
    child_fail(failure, kEnterCgroup);
  }
  for (int fd : request.cgroup.procs) {
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
  if (request.foreground) {
    // As in clone_child: SIGTTOU blocked until the mask is emptied below.
    sigset_t ttou;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    ::sigprocmask(SIG_BLOCK, &ttou, nullptr);
    pid_t self = ::getpid();
    ::ioctl(0, TIOCSPGRP, &self);
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

// vfork, as posix_spawn itself does: the child borrows wp's memory until it
// execs (wp waits). The child only makes system calls and never returns.
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
  return step_error(request, failure.step, failure.error);
}

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

Result<pid_t> posix_spawn_job(const SpawnRequest& request) {
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

Result<Spawned> spawn_and_wait(const SpawnRequest& request) {
  Result<pid_t> pid = make_error("not started");
  // posix_spawn has no step to take the terminal before exec.
  if (request.cgroup.dir_procs < 0 && request.cgroup.procs.empty() && !request.foreground) {
    pid = posix_spawn_job(request);
  } else {
    std::vector<char*> argv = c_strings(request.argv);
    std::vector<char*> env = c_strings(request.env);
    pid = spawn_into_cgroups(request, argv.data(), env.data());
  }
  if (!pid) return pid.error();
  return Spawned(*pid, nullptr);
}

}  // namespace

Spawned::Spawned(pid_t pid, std::unique_ptr<Child> child) : pid_(pid), child_(std::move(child)) {}
Spawned::Spawned(Spawned&&) noexcept = default;
Spawned& Spawned::operator=(Spawned&&) noexcept = default;

Spawned::~Spawned() {
  // A child that has not exec'd yet still reads this memory: it is left to
  // it (only if wp lets go of a job it has not reaped, which it does not).
  if (child_ && std::atomic_ref(child_->running).load(std::memory_order_acquire) != 0) {
    (void)child_.release();
  }
}

std::optional<Error> Spawned::failure() const {
  if (!child_) return std::nullopt;
  int step = std::atomic_ref(child_->step).load(std::memory_order_acquire);
  if (step < 0) return std::nullopt;
  return step_error(child_->request, step, child_->error);
}

Result<Spawned> spawn(SpawnRequest request) {
  if (request.cgroup.dir >= 0 && request.cgroup.dir_procs < 0) {
    // The fallback would leave the job outside its cgroup.
    return make_error("cannot start '{}': a cgroup directory without its cgroup.procs",
                      request.executable.string());
  }
#if defined(__x86_64__)
  if (!request.wait_for_exec) return spawn_without_waiting(std::move(request));
#endif
  return spawn_and_wait(request);
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

}  // namespace wp::platform
