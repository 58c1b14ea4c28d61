// ProcTreeMeter against /proc trees that each test writes under a scratch
// directory (so files can change between samples), with a hand-held clock;
// and once against the real /proc, on a child and grandchild of the test.
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "platform/proc_tree.h"

using namespace wp;
using namespace wp::platform;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr Bytes kMiB = Bytes{1} << 20;

const uint64_t kTick = static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
const Bytes kPage = static_cast<Bytes>(sysconf(_SC_PAGESIZE));

double seconds(uint64_t ticks) {
  return static_cast<double>(ticks) / static_cast<double>(kTick);
}

// One process as the fixture writes it.
struct Proc {
  pid_t pid = 0;
  pid_t ppid = 0;
  pid_t pgid = 0;
  std::string comm = "job";
  uint64_t utime = 0, stime = 0, cutime = 0, cstime = 0;  // clock ticks
  uint64_t start = 1000;                                  // starttime, ticks after boot
  Bytes rss = 0;
  std::optional<std::string> io;  // nothing: no io file
};

std::string io_text(uint64_t read_bytes, uint64_t write_bytes, uint64_t syscr, uint64_t syscw) {
  return "rchar: 0\nwchar: 0\nsyscr: " + std::to_string(syscr) +
         "\nsyscw: " + std::to_string(syscw) + "\nread_bytes: " + std::to_string(read_bytes) +
         "\nwrite_bytes: " + std::to_string(write_bytes) + "\ncancelled_write_bytes: 0\n";
}

// A scratch /proc, removed on scope exit.
class FakeProc {
 public:
  FakeProc() {
    static int counter = 0;
    dir_ = fs::temp_directory_path() /
           ("wp-proc-tree-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(dir_);
  }
  ~FakeProc() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  FakeProc(const FakeProc&) = delete;
  FakeProc& operator=(const FakeProc&) = delete;

  const fs::path& path() const { return dir_; }

  // Writes stat, statm and io as the kernel lays them out (fields 3..52 of stat).
  void put(const Proc& p) {
    std::string stat = std::to_string(p.pid) + " (" + p.comm + ") S " + std::to_string(p.ppid) +
                       " " + std::to_string(p.pgid) + " " + std::to_string(p.pgid) +
                       " 0 -1 4194304 10 0 0 0 " + std::to_string(p.utime) + " " +
                       std::to_string(p.stime) + " " + std::to_string(p.cutime) + " " +
                       std::to_string(p.cstime) + " 20 0 1 0 " + std::to_string(p.start) +
                       " 12345678 " + std::to_string(p.rss / kPage);
    for (int field = 25; field <= 52; ++field)
      stat += " 0";
    write(p.pid, "stat", stat + "\n");
    write(p.pid, "statm", "9000 " + std::to_string(p.rss / kPage) + " 100 10 0 500 0\n");
    if (p.io) {
      write(p.pid, "io", *p.io);
    } else {
      fs::remove(dir(p.pid) / "io");
    }
  }
  void remove(pid_t pid) { fs::remove_all(dir(pid)); }
  void write(pid_t pid, const std::string& name, const std::string& text) {
    write_file(dir(pid) / name, text);
  }
  void write_file(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    FILE* file = std::fopen(path.c_str(), "w");
    REQUIRE(file != nullptr);
    std::fputs(text.c_str(), file);
    std::fclose(file);
  }

 private:
  fs::path dir(pid_t pid) const { return dir_ / std::to_string(pid); }
  fs::path dir_;
};

// wp (pid 50, the subreaper) runs the job 100.
Proc job(pid_t pid, pid_t ppid, pid_t pgid = 100) {
  Proc p;
  p.pid = pid;
  p.ppid = ppid;
  p.pgid = pgid;
  return p;
}

}  // namespace

TEST_CASE("proc tree: the root's descendants and its process group, nothing else", "[proc_tree]") {
  FakeProc proc;
  auto put = [&](pid_t pid, pid_t ppid, pid_t pgid, Bytes mib) {
    Proc p = job(pid, ppid, pgid);
    p.rss = mib * kMiB;
    proc.put(p);
  };
  put(1, 0, 1, 64);                      // init
  put(50, 1, 50, 32);                    // wp
  put(100, 50, 100, 1);                  // the job
  put(101, 100, 100, 2);                 // its child
  put(102, 101, 102, 4);                 // a grandchild in its own group: still a descendant
  put(200, 50, 100, 8);                  // reparented to wp, still in the job's group
  put(201, 200, 201, 16);                // and its child, in a group of its own
  put(300, 1, 300, 128);                 // unrelated
  put(301, 50, 301, 256);                // another job of wp
  proc.write(400, "stat", "garbage\n");  // unparseable: skipped
  proc.write_file(proc.path() / "self" / "stat", "");  // not a pid: skipped
  proc.write_file(proc.path() / "stat", "cpu 1 2 3\n");

  ProcTreeMeter meter(100, proc.path());
  TreeSample sample = meter.sample();
  CHECK(sample.processes == 5);
  CHECK(sample.rss == (1 + 2 + 4 + 8 + 16) * kMiB);
}

TEST_CASE("proc tree: comm with spaces and parentheses", "[proc_tree]") {
  FakeProc proc;
  Proc root = job(100, 50);
  root.comm = "a) S 1 1 (b";
  root.utime = 7;
  proc.put(root);
  // Split at the first ')' this would read ppid 999 and leave the tree.
  Proc child = job(101, 100, 101);
  child.comm = "x) S 999 999 (y z)";
  child.utime = 5;
  child.stime = 3;
  child.rss = 3 * kMiB;
  proc.put(child);

  ProcTreeMeter meter(100, proc.path());
  TreeSample sample = meter.sample();
  CHECK(sample.processes == 2);
  CHECK(sample.cpu_seconds == Approx(seconds(15)));
  CHECK(sample.rss == 3 * kMiB);
}

TEST_CASE("proc tree: RSS is summed over the tree, and its peak kept", "[proc_tree]") {
  FakeProc proc;
  Proc root = job(100, 50);
  Proc child = job(101, 100);
  auto sample = [&](ProcTreeMeter& meter, Bytes root_mib, std::optional<Bytes> child_mib) {
    root.rss = root_mib * kMiB;
    proc.put(root);
    if (child_mib) {
      child.rss = *child_mib * kMiB;
      proc.put(child);
    } else {
      proc.remove(child.pid);
    }
    return meter.sample();
  };

  ProcTreeMeter meter(100, proc.path());
  CHECK(sample(meter, 10, 20).rss == 30 * kMiB);
  CHECK(sample(meter, 15, 5).rss == 20 * kMiB);
  TreeSample last = sample(meter, 25, std::nullopt);
  CHECK(last.rss == 25 * kMiB);
  CHECK(last.processes == 1);
  TreeUsage usage = meter.finish(rusage{});
  CHECK(usage.peak_rss == 30 * kMiB);
  CHECK(usage.samples == 3);
}

TEST_CASE("proc tree: CPU and I/O never go back when members leave", "[proc_tree]") {
  FakeProc proc;
  ProcTreeMeter meter(100, proc.path());
  Proc root = job(100, 50);
  root.utime = 10;
  Proc child = job(101, 100);
  child.utime = 40;

  SECTION("a child reaped by its parent moves into the parent's cutime and io") {
    child.io = io_text(0, 4096, 0, 1);
    proc.put(root);
    proc.put(child);
    TreeSample first = meter.sample();
    CHECK(first.cpu_seconds == Approx(seconds(50)));
    CHECK(first.write_bytes == 4096);

    // It ran 10 more ticks and wrote once more before the root reaped it.
    proc.remove(child.pid);
    root.cutime = 50;
    root.io = io_text(0, 8192, 0, 2);
    proc.put(root);
    TreeSample second = meter.sample();
    CHECK(second.cpu_seconds == Approx(seconds(60)));  // not 110: counted once
    CHECK(second.write_bytes == 8192);
    CHECK(second.write_calls == 2);
  }

  SECTION("a grandchild reaped by wp after its parent ended keeps its time") {
    Proc grandchild = job(102, 101);
    grandchild.utime = 30;
    grandchild.io = io_text(1000, 0, 3, 0);
    proc.put(root);
    proc.put(child);
    proc.put(grandchild);
    CHECK(meter.sample().cpu_seconds == Approx(seconds(80)));

    // The child ends (the root reaps it); the grandchild is reparented to wp.
    proc.remove(child.pid);
    root.cutime = 40;
    proc.put(root);
    grandchild.ppid = 50;
    proc.put(grandchild);
    CHECK(meter.sample().cpu_seconds == Approx(seconds(80)));

    // wp reaps the grandchild: nobody in the tree absorbs it.
    proc.remove(grandchild.pid);
    TreeSample last = meter.sample();
    CHECK(last.processes == 1);
    CHECK(last.cpu_seconds == Approx(seconds(80)));
    CHECK(last.read_bytes == 1000);
    CHECK(last.read_calls == 3);
  }

  SECTION("a child auto-reaped (its parent ignores SIGCHLD) keeps its time") {
    proc.put(root);
    proc.put(child);
    meter.sample();
    proc.remove(child.pid);
    root.utime = 15;
    proc.put(root);
    CHECK(meter.sample().cpu_seconds == Approx(seconds(55)));
  }

  SECTION("a child and grandchild gone together: the root absorbed both") {
    Proc grandchild = job(102, 101);
    grandchild.utime = 30;
    proc.put(root);
    proc.put(child);
    proc.put(grandchild);
    meter.sample();
    // The child reaped the grandchild, ran 5 more ticks, and the root reaped it.
    proc.remove(grandchild.pid);
    proc.remove(child.pid);
    root.cutime = 40 + 30 + 5;
    proc.put(root);
    CHECK(meter.sample().cpu_seconds == Approx(seconds(10 + 75)));
  }

  SECTION("a reused pid is another process") {
    proc.put(root);
    proc.put(child);
    meter.sample();
    // The root reaped the child; a new child got its pid.
    root.cutime = 40;
    proc.put(root);
    Proc reused = job(101, 100);
    reused.start = child.start + 500;
    reused.utime = 5;
    proc.put(reused);
    CHECK(meter.sample().cpu_seconds == Approx(seconds(10 + 40 + 5)));
  }

  TreeUsage usage = meter.finish(rusage{});
  CHECK(usage.cpu_seconds > 0);
}

TEST_CASE("proc tree: an unreadable io file counts as nothing", "[proc_tree]") {
  FakeProc proc;
  Proc root = job(100, 50);
  root.utime = 20;
  root.rss = 4 * kMiB;
  proc.put(root);  // no io file
  Proc child = job(101, 100);
  child.utime = 1;
  proc.put(child);
  fs::create_directories(proc.path() / "101" / "io");  // not a file
  Proc other = job(102, 100);
  other.io = "read_bytes: lots\nwrite_bytes: -1\n";  // garbage
  proc.put(other);

  ProcTreeMeter meter(100, proc.path());
  TreeSample sample = meter.sample();
  CHECK(sample.processes == 3);
  CHECK(sample.cpu_seconds == Approx(seconds(21)));
  CHECK(sample.rss == 4 * kMiB);
  CHECK(sample.read_bytes == 0);
  CHECK(sample.write_bytes == 0);

  // Readable, then unreadable again (a setuid exec): the figures stay.
  root.io = io_text(100, 200, 3, 4);
  proc.put(root);
  CHECK(meter.sample().write_bytes == 200);
  root.io.reset();
  proc.put(root);
  TreeSample last = meter.sample();
  CHECK(last.read_bytes == 100);
  CHECK(last.write_bytes == 200);
  CHECK(last.read_calls == 3);
  CHECK(last.write_calls == 4);
}

TEST_CASE("proc tree: finish() takes the main process's rusage where it says more", "[proc_tree]") {
  FakeProc proc;
  Proc root = job(100, 50);
  root.utime = kTick;  // 1 s
  root.rss = 10 * kMiB;
  root.io = io_text(8192, 4096, 5, 6);
  proc.put(root);
  ProcTreeMeter meter(100, proc.path());
  meter.sample();

  rusage usage{};
  SECTION("a ru_maxrss no larger than wp's own peak may be wp's: not used") {
    // A vforked child inherits the parent's high-water mark at exec. Touch
    // 32 MiB so that this process's own high-water mark is above 20 MiB.
    std::vector<char> ballast(32 * kMiB, 1);
    REQUIRE(ballast[ballast.size() / 2] == 1);
    usage.ru_maxrss = 20 * 1024;
    CHECK(meter.finish(usage).peak_rss == 10 * kMiB);
  }
  SECTION("rusage larger than the samples") {
    // Above this test's own peak resident memory: no borrowed vfork figure.
    usage.ru_maxrss = 64L * 1024 * 1024 * 1024;  // KiB: 64 TiB
    usage.ru_utime = {2, 500'000};
    usage.ru_stime = {0, 500'000};
    usage.ru_inblock = 64;  // 512-byte blocks
    usage.ru_oublock = 16;
    TreeUsage result = meter.finish(usage);
    CHECK(result.peak_rss == 64ull << 40);
    CHECK(result.cpu_seconds == Approx(3.0));
    CHECK(result.user_seconds == Approx(2.5));
    CHECK(result.system_seconds == Approx(0.5));
    CHECK(result.read_bytes == 64 * 512);
    CHECK(result.write_bytes == 8192);
    CHECK(result.read_calls == 5);
    CHECK(result.write_calls == 6);
    CHECK(result.samples == 1);
  }
  SECTION("rusage smaller than the samples") {
    usage.ru_maxrss = 2 * 1024;
    usage.ru_utime = {0, 250'000};
    TreeUsage result = meter.finish(usage);
    CHECK(result.peak_rss == 10 * kMiB);
    CHECK(result.cpu_seconds == Approx(1.0));
    CHECK(result.user_seconds == Approx(0.25));
    CHECK(result.read_bytes == 8192);
    CHECK(result.write_bytes == 4096);
  }
}

TEST_CASE("proc tree: peak cores is the highest rate between samples", "[proc_tree]") {
  FakeProc proc;
  Proc root = job(100, 50);
  Proc child = job(101, 100);
  ProcTreeMeter meter(100, proc.path());
  auto at = [&](std::chrono::steady_clock::time_point now, uint64_t root_ticks,
                uint64_t child_ticks) {
    root.utime = root_ticks;
    child.utime = child_ticks;
    proc.put(root);
    proc.put(child);
    meter.sample(now);
  };
  auto t0 = std::chrono::steady_clock::now();
  at(t0, 0, 0);
  at(t0 + 1s, kTick, kTick);  // two cores for a second
  // 0.1 s of CPU in 10 ms would read as 10 cores: too short a window to count.
  at(t0 + 1010ms, kTick, kTick + kTick / 10);
  at(t0 + 3s, kTick + kTick / 2, kTick + kTick / 2);  // under one core
  CHECK(meter.finish(rusage{}).peak_cores == Approx(2.0).epsilon(0.02));
}

TEST_CASE("proc tree: the sampling interval stretches while the tree is unchanged", "[proc_tree]") {
  FakeProc proc;
  proc.put(job(100, 50));
  ProcTreeMeter meter(100, proc.path());
  auto t = std::chrono::steady_clock::now();
  CHECK(meter.next_sample() <= t);  // the first sample is due at once

  meter.sample(t);  // the tree appeared: a change
  CHECK(meter.next_sample() - t == 10ms);
  t += 10ms;
  meter.sample(t);
  CHECK(meter.next_sample() - t == 20ms);
  t += 20ms;
  meter.sample(t);
  CHECK(meter.next_sample() - t == 40ms);

  SECTION("up to a second") {
    for (int i = 0; i < 10; ++i) {
      t = meter.next_sample();
      meter.sample(t);
    }
    CHECK(meter.next_sample() - t == 1s);
  }
  SECTION("a change keeps the interval") {
    proc.put(job(101, 100));
    meter.sample(t);
    CHECK(meter.next_sample() - t == 40ms);
  }
  SECTION("but a tree that keeps changing is not sampled more often than 1/8 of its age") {
    proc.put(job(101, 100));
    t += 4s;
    meter.sample(t);
    auto interval = meter.next_sample() - t;
    CHECK(interval >= 503ms);  // the job is 4.03 s old
    CHECK(interval <= 510ms);
  }
}

namespace {

// In a forked process: reports its resident memory before allocating, then
// holds 32 MiB touched for 300 ms. mmap rather than malloc, so that the
// sanitizers' allocator adds nothing of its own.
void hold_32_mib(int report_fd) {
  long resident_pages = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%*d %ld", &resident_pages) != 1) resident_pages = 0;
    std::fclose(statm);
  }
  uint64_t baseline = static_cast<uint64_t>(resident_pages) * kPage;
  if (::write(report_fd, &baseline, sizeof baseline) != sizeof baseline) _exit(3);
  constexpr size_t kSize = 32 << 20;
  void* memory = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) _exit(4);
  auto* bytes = static_cast<volatile char*>(memory);
  for (size_t offset = 0; offset < kSize; offset += kPage)
    bytes[offset] = 1;
  std::this_thread::sleep_for(300ms);
}

}  // namespace

TEST_CASE("proc tree: a real child and grandchild holding 32 MiB each", "[proc_tree]") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    close(fds[0]);
    setpgid(0, 0);  // as wp starts a job
    pid_t grandchild = fork();
    hold_32_mib(fds[1]);
    if (grandchild > 0) waitpid(grandchild, nullptr, 0);
    _exit(grandchild < 0 ? 5 : 0);
  }
  close(fds[1]);

  ProcTreeMeter meter(child);
  Bytes peak = 0;
  size_t most_processes = 0;
  int status = 0;
  rusage usage{};
  pid_t reaped = 0;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (reaped == 0 && std::chrono::steady_clock::now() < deadline) {
    TreeSample sample = meter.sample();
    peak = std::max(peak, sample.rss);
    most_processes = std::max(most_processes, sample.processes);
    std::this_thread::sleep_for(20ms);
    reaped = wait4(child, &status, WNOHANG, &usage);
  }
  if (reaped == 0) kill(-child, SIGKILL);
  REQUIRE(reaped == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);

  uint64_t baselines[2] = {};
  REQUIRE(read(fds[0], baselines, sizeof baselines) == sizeof baselines);
  close(fds[0]);
  // What the two allocated, beyond what they held as forks of this process.
  double allocated = static_cast<double>(peak) - static_cast<double>(baselines[0]) -
                     static_cast<double>(baselines[1]);
  CHECK(most_processes == 2);
  CHECK(allocated >= 0.85 * 64 * kMiB);
  CHECK(allocated <= 1.15 * 64 * kMiB);

  TreeUsage result = meter.finish(usage);
  CHECK(result.peak_rss >= peak);
  CHECK(result.peak_rss >= static_cast<Bytes>(usage.ru_maxrss) * 1024);
  CHECK(result.samples >= 5);
  CHECK(result.cpu_seconds >= result.user_seconds + result.system_seconds - 1e-9);
}

TEST_CASE("proc tree: signal_members reaches a member that left the process group", "[proc_tree]") {
  // A child that moved to a session of its own: no longer in the root's
  // process group, still the job's because a sample saw it in the tree.
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t root = ::fork();
  REQUIRE(root >= 0);
  if (root == 0) {
    ::setpgid(0, 0);
    pid_t escaper = ::fork();
    if (escaper == 0) {
      ::setsid();
      ssize_t ignored = ::write(ready[1], "x", 1);
      (void)ignored;
      ::pause();
      ::_exit(0);
    }
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  char byte = 0;
  REQUIRE(::read(ready[0], &byte, 1) == 1);
  ::close(ready[0]);
  wp::platform::ProcTreeMeter meter(root);
  wp::platform::TreeSample seen = meter.sample();
  CHECK(seen.processes == 2);
  ::kill(root, SIGKILL);
  ::waitpid(root, nullptr, 0);
  // Orphaned and in its own session, the escaper is out of the tree now...
  CHECK(meter.sample().processes == 0);
  // ...but the samples saw it: it is the only one left to signal.
  CHECK(meter.signal_members(SIGKILL) == 1);
}
