// wp_usejob: a job whose use of memory, CPU, storage and processes is known,
// for the tests of what wp measures.
//
// Standalone on purpose (C++20 + POSIX, no wp library), like wp_testjob.
// The order of effects is fixed (see main):
//   children -> memory -> cpu -> writes -> reads -> daemon -> hold ->
//   wait for children -> report -> exit.
// Children are forked first, so that their memory is their own (a fork after
// the allocation would share our pages) and the tree's use is concurrent.
//
//   --memory-mib N       allocate N MiB and write every page; kept until exit
//   --memory-step-ms M   allocate it in 16 MiB steps spread over M ms (one step
//                        every M/steps ms) instead of at once
//   --cpu-ms N           burn N ms of CPU in a busy loop
//   --threads T          burn --cpu-ms on each of T threads at once (T*N ms of CPU
//                        in about N ms of wall time), for peak-cores tests
//   --file PATH          the file of --write-ops and --read-ops: it must exist with
//                        at least 4 KiB per op, its blocks written (a hole or a
//                        fallocated range would make the first write a metadata change)
//   --write-ops N        N writes of 4 KiB, each at its own 4 KiB-aligned offset and
//                        followed by fdatasync: one device write per op (O_WRONLY,
//                        no O_TRUNC, the size never changes)
//   --direct             make the writes O_DIRECT (aligned buffer) instead of fdatasync
//   --read-ops N         N reads of 4 KiB at distinct offsets with O_DIRECT; where
//                        O_DIRECT is refused (tmpfs): POSIX_FADV_DONTNEED then pread,
//                        readahead off
//   --children K         fork K children that each do the same --memory-mib,
//                        --memory-step-ms, --cpu-ms, --threads and --hold-ms: the
//                        tree uses (K+1)x; we wait for them before exiting
//   --daemon PIDFILE     double-fork a grandchild that calls setsid(), points its
//                        stdio at /dev/null, writes its pid to PIDFILE and sleeps 10
//                        minutes (re-executed as "wp_usejob --hold-ms 600000", so it
//                        holds none of our memory); we go on once PIDFILE exists
//   --hold-ms N          sleep N ms at the end, holding the memory
//   --report FILE        at exit, write "cpu_ms=<this process's CPU ms>
//                        maxrss_kib=<its ru_maxrss> cpu_wall_ms=<wall time of the
//                        --cpu-ms phase>" (what it measured of itself)
//   --cgroups FILE       at start, append /proc/self/cgroup to FILE (the cgroups
//                        the job runs in; a retry's come after the first attempt's)
//   --exit N             exit status (default 0)
// A usage error (unknown flag, missing or bad value) prints the usage and exits
// 2; a failure to do what was asked (mmap, open, short write) exits 99.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr long kBlock = 4096;  // one I/O op
constexpr long kStepMiB = 16;  // --memory-step-ms allocates this much at a time
constexpr long kDaemonMs = 600'000;

constexpr std::string_view kUsage =
    "usage: wp_usejob [--memory-mib N [--memory-step-ms M]] [--cpu-ms N [--threads T]]\n"
    "                 [--file PATH [--write-ops N [--direct]] [--read-ops N]]\n"
    "                 [--children K] [--daemon PIDFILE] [--hold-ms N] [--report FILE]\n"
    "                 [--cgroups FILE] [--exit N]\n";

struct Options {
  long memory_mib = 0;
  long memory_step_ms = 0;
  long cpu_ms = 0;
  long threads = 1;
  std::string file;
  long write_ops = 0;
  bool direct = false;
  long read_ops = 0;
  long children = 0;
  std::string daemon_pidfile;
  long hold_ms = 0;
  std::string report;
  std::string cgroups;
  int exit_code = 0;
};

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

[[noreturn]] void usage_error(const std::string& message) {
  write_all(STDERR_FILENO, "wp_usejob: " + message + "\n");
  write_all(STDERR_FILENO, kUsage);
  std::_Exit(2);
}

[[noreturn]] void die(const std::string& message) {
  write_all(STDERR_FILENO, "wp_usejob: " + message + "\n");
  std::_Exit(99);
}

std::string error_text() {
  return std::strerror(errno);
}

long parse_count(std::string_view flag, std::string_view text) {
  long value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0) {
    usage_error("bad number '" + std::string(text) + "' for " + std::string(flag));
  }
  return value;
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error("missing value for " + std::string(flag));
      return argv[++i];
    };
    auto count = [&]() { return parse_count(flag, value()); };
    if (flag == "--memory-mib") {
      options.memory_mib = count();
    } else if (flag == "--memory-step-ms") {
      options.memory_step_ms = count();
    } else if (flag == "--cpu-ms") {
      options.cpu_ms = count();
    } else if (flag == "--threads") {
      options.threads = std::max(count(), 1L);
    } else if (flag == "--file") {
      options.file = value();
    } else if (flag == "--write-ops") {
      options.write_ops = count();
    } else if (flag == "--direct") {
      options.direct = true;
    } else if (flag == "--read-ops") {
      options.read_ops = count();
    } else if (flag == "--children") {
      options.children = count();
    } else if (flag == "--daemon") {
      options.daemon_pidfile = value();
    } else if (flag == "--hold-ms") {
      options.hold_ms = count();
    } else if (flag == "--report") {
      options.report = value();
    } else if (flag == "--cgroups") {
      options.cgroups = value();
    } else if (flag == "--exit") {
      options.exit_code = static_cast<int>(count());
    } else {
      usage_error("unknown flag " + std::string(flag));
    }
  }
  if ((options.write_ops > 0 || options.read_ops > 0) && options.file.empty()) {
    usage_error("--write-ops and --read-ops need --file");
  }
  return options;
}

void sleep_ms(long ms) {
  timespec remaining{ms / 1000, (ms % 1000) * 1'000'000L};
  while (nanosleep(&remaining, &remaining) != 0 && errno == EINTR) {
  }
}

void write_file_atomically(const std::string& path, std::string_view content) {
  std::string temp = path + ".tmp";
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("cannot create " + temp + ": " + error_text());
  write_all(fd, content);
  close(fd);
  if (rename(temp.c_str(), path.c_str()) != 0) die("cannot rename to " + path);
}

// mmap rather than malloc: no allocator (nor sanitizer) bookkeeping of its
// own, so the resident memory is the N MiB written and little else.
void allocate_mib(long mib) {
  size_t size = static_cast<size_t>(mib) << 20;
  void* memory = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) die("cannot map " + std::to_string(mib) + " MiB: " + error_text());
  auto* bytes = static_cast<volatile char*>(memory);
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  for (size_t offset = 0; offset < size; offset += page)
    bytes[offset] = 1;
}

void use_memory(const Options& options) {
  if (options.memory_mib == 0) return;
  if (options.memory_step_ms == 0) {
    allocate_mib(options.memory_mib);
    return;
  }
  long steps = (options.memory_mib + kStepMiB - 1) / kStepMiB;
  for (long left = options.memory_mib; left > 0; left -= kStepMiB) {
    allocate_mib(std::min(left, kStepMiB));
    sleep_ms(options.memory_step_ms / steps);
  }
}

// Each thread watches its own CPU clock: the process clock
// (CLOCK_PROCESS_CPUTIME_ID, what --report prints) runs T times as fast.
// Work between two looks at the clock keeps the time in user mode.
void burn_cpu(long ms) {
  auto cpu_ns = [] {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
  };
  const int64_t until = cpu_ns() + static_cast<int64_t>(ms) * 1'000'000;
  volatile uint64_t sink = 0;
  uint64_t x = 1;
  while (cpu_ns() < until) {
    for (int i = 0; i < 100'000; ++i)
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    sink = x;
  }
  (void)sink;
}

void use_cpu(const Options& options) {
  if (options.cpu_ms == 0) return;
  if (options.threads == 1) {
    burn_cpu(options.cpu_ms);
    return;
  }
  std::vector<std::thread> threads;
  for (long i = 0; i < options.threads; ++i)
    threads.emplace_back(burn_cpu, options.cpu_ms);
  for (auto& thread : threads)
    thread.join();
}

int open_file(const std::string& path, int flags, long ops) {
  int fd = open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st {};
  if (fstat(fd, &st) != 0 || st.st_size < ops * kBlock) {
    die(path + " must hold at least " + std::to_string(ops * kBlock) + " bytes");
  }
  return fd;
}

// A 4 KiB buffer aligned for O_DIRECT.
struct Block {
  Block() {
    if (posix_memalign(&data, kBlock, kBlock) != 0) die("cannot allocate an I/O buffer");
    std::memset(data, 'w', kBlock);
  }
  ~Block() { std::free(data); }
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;
  void* data = nullptr;
};

void write_ops(const Options& options) {
  if (options.write_ops == 0) return;
  int fd = open_file(options.file, O_WRONLY | (options.direct ? O_DIRECT : 0), options.write_ops);
  if (fd < 0) die("cannot open " + options.file + " for writing: " + error_text());
  Block block;
  for (long i = 0; i < options.write_ops; ++i) {
    if (pwrite(fd, block.data, kBlock, i * kBlock) != kBlock) die("write failed: " + error_text());
    if (!options.direct && fdatasync(fd) != 0) die("fdatasync failed: " + error_text());
  }
  close(fd);
}

void read_ops(const Options& options) {
  if (options.read_ops == 0) return;
  int fd = open_file(options.file, O_RDONLY | O_DIRECT, options.read_ops);
  bool direct = fd >= 0;
  if (!direct) {
    if (errno != EINVAL) die("cannot open " + options.file + ": " + error_text());
    fd = open_file(options.file, O_RDONLY, options.read_ops);
    if (fd < 0) die("cannot open " + options.file + ": " + error_text());
    posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);  // no readahead: one page per op
  }
  Block block;
  for (long i = 0; i < options.read_ops; ++i) {
    if (!direct) posix_fadvise(fd, i * kBlock, kBlock, POSIX_FADV_DONTNEED);
    if (pread(fd, block.data, kBlock, i * kBlock) != kBlock) die("read failed: " + error_text());
  }
  close(fd);
}

// The grandchild re-executes this program to sleep: a forked copy would keep
// our memory for its ten minutes.
[[noreturn]] void become_daemon(const std::string& pidfile) {
  setsid();
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO})
      dup2(null, fd);
    if (null > STDERR_FILENO) close(null);
  }
  write_file_atomically(pidfile, std::to_string(getpid()));
  std::string hold = std::to_string(kDaemonMs);
  char* args[] = {const_cast<char*>("wp_usejob"), const_cast<char*>("--hold-ms"), hold.data(),
                  nullptr};
  execv("/proc/self/exe", args);
  sleep_ms(kDaemonMs);
  std::_Exit(0);
}

void start_daemon(const std::string& pidfile) {
  pid_t middle = fork();
  if (middle < 0) die("fork failed: " + error_text());
  if (middle == 0) {
    pid_t daemon = fork();
    if (daemon == 0) become_daemon(pidfile);
    std::_Exit(daemon < 0 ? 1 : 0);
  }
  int status = 0;
  waitpid(middle, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("the daemon's fork failed");
  struct stat st {};
  for (int waited = 0; stat(pidfile.c_str(), &st) != 0; waited += 5) {
    if (waited > 20'000) die("the daemon did not write " + pidfile);
    sleep_ms(5);
  }
}

// What each child does: the same use of memory and CPU, held as long.
std::vector<pid_t> fork_children(const Options& options) {
  std::vector<pid_t> children;
  for (long i = 0; i < options.children; ++i) {
    pid_t pid = fork();
    if (pid < 0) die("fork failed: " + error_text());
    if (pid == 0) {
      use_memory(options);
      use_cpu(options);
      sleep_ms(options.hold_ms);
      std::_Exit(0);
    }
    children.push_back(pid);
  }
  return children;
}

void wait_children(const std::vector<pid_t>& children) {
  for (pid_t pid : children) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("a child failed");
  }
}

int64_t monotonic_ms() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
}

// How long the --cpu-ms phase took: with its CPU time, the cores the job
// really got, whatever else the machine was doing.
int64_t cpu_wall_ms = 0;

void write_report(const std::string& path) {
  timespec cpu{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  long long cpu_ms = static_cast<long long>(cpu.tv_sec) * 1000 + cpu.tv_nsec / 1'000'000;
  write_file_atomically(path, "cpu_ms=" + std::to_string(cpu_ms) +
                                  " maxrss_kib=" + std::to_string(self.ru_maxrss) +
                                  " cpu_wall_ms=" + std::to_string(cpu_wall_ms) + "\n");
}

void append_cgroups(const std::string& path) {
  int in = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
  if (in < 0) die("cannot open /proc/self/cgroup: " + error_text());
  std::string text;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = read(in, buffer, sizeof buffer)) > 0)
    text.append(buffer, static_cast<size_t>(n));
  close(in);
  if (n < 0) die("cannot read /proc/self/cgroup: " + error_text());
  int out = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) die("cannot open " + path + ": " + error_text());
  write_all(out, text);
  close(out);
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse(argc, argv);
  if (!options.cgroups.empty()) append_cgroups(options.cgroups);
  std::vector<pid_t> children = fork_children(options);
  use_memory(options);
  int64_t cpu_start = monotonic_ms();
  use_cpu(options);
  cpu_wall_ms = monotonic_ms() - cpu_start;
  write_ops(options);
  read_ops(options);
  if (!options.daemon_pidfile.empty()) start_daemon(options.daemon_pidfile);
  if (options.hold_ms > 0) sleep_ms(options.hold_ms);
  wait_children(children);
  if (!options.report.empty()) write_report(options.report);
  return options.exit_code;
}
