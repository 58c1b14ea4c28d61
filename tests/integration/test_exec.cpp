// How a job is started: file descriptors, stdin, direct exec or /bin/sh.
#include <signal.h>

#include <cstdint>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "wp_harness.h"

using namespace wpit;

TEST_CASE("a job sees only fds 0, 1 and 2, with stdin from /dev/null", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"fds\"\nargv = " + job_argv({"--count-fds", dir.str("fds")}) + "\n" +
                 "[[job]]\nname = \"fds-sh\"\ncommand = " +
                 toml_string(testjob() + " --count-fds " + dir.str("fds-sh") + " && true") + "\n");
  RunResult r = run_wp({"run", dir.str("jobs.toml")});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  for (const char* file : {"fds", "fds-sh"}) {
    std::string listing = read_file(dir / file);
    INFO(file << ":\n" << listing);
    std::set<int> open_fds;
    for (const auto& line : split_lines(listing))
      open_fds.insert(std::stoi(line));
    CHECK(open_fds == std::set<int>{0, 1, 2});
    CHECK(has_line(listing, "0 /dev/null"));
  }
}

TEST_CASE("a command with shell syntax runs through /bin/sh", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"pipe\"\ncommand = \"echo abc | tr a x\"\n"
             "[[job]]\nname = \"vars\"\ncommand = \"echo name=$WP_JOB_NAME && echo second\"\n");
  RunResult r = run_wp({"run", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  CHECK(has_line(r.out, "[pipe] xbc"));
  CHECK(has_line(r.out, "[vars] name=vars"));
  CHECK(has_line(r.out, "[vars] second"));
}

TEST_CASE("a command without shell syntax runs, found on PATH or by path", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"direct\"\ncommand = " +
                 job_command({"--stdout", "direct-ok", "--touch", dir.str("direct")}) + "\n" +
                 "[[job]]\nname = \"on-path\"\ncommand = \"echo on-path-ok\"\n"
                 "[[job]]\nname = \"quoted\"\ncommand = " +
                 toml_string(testjob() + " --stdout 'two words'") + "\n");
  RunResult r = run_wp({"run", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  CHECK(fs::exists(dir / "direct"));
  CHECK(has_line(r.out, "[direct] direct-ok"));
  CHECK(has_line(r.out, "[on-path] on-path-ok"));
  CHECK(has_line(r.out, "[quoted] two words"));
}

TEST_CASE("argv runs the program without a shell", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"literal\"\nargv = " + job_argv({"--stdout", "a | b $HOME"}) + "\n");
  RunResult r = run_wp({"run", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  CHECK(has_line(r.out, "[literal] a | b $HOME"));
}

TEST_CASE("a missing program fails the job with a clear message", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"ghost\"\ncommand = \"wpit-no-such-program --flag\"\n"
             "[[job]]\nname = \"ghost-argv\"\nargv = [\"/nonexistent/wpit-missing\"]\n"
             "[[job]]\nname = \"fine\"\ncommand = \"true\"\n");
  RunResult r = run_wp({"run", "--keep-going", "--json", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "wpit-no-such-program"));
  CHECK(contains(r.err, "/nonexistent/wpit-missing"));
  const bool explained = contains(r.err, "not found") || contains(r.err, "No such file");
  CHECK(explained);
  Json summary = parse_json(r.out);
  CHECK(job_named(summary, "ghost")["status"].as_string() == "failed");
  CHECK(job_named(summary, "ghost-argv")["status"].as_string() == "failed");
  CHECK(job_named(summary, "fine")["status"].as_string() == "ok");
}

TEST_CASE("a job killed by a signal is failed and the signal is reported", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml", "[[job]]\nname = \"killed\"\ncommand = \"kill -KILL $$\"\n");
  RunResult r = run_wp({"run", "--json", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  Json summary = parse_json(r.out);
  const Json& job = job_named(summary, "killed");
  CHECK(job["status"].as_string() == "failed");
  REQUIRE(job["signal"].is_string());
  CHECK(job["signal"].as_string() == "SIGKILL");
}

TEST_CASE("a job that cannot be started gives its resources back", "[integration]") {
  TempDir dir;
  // One core: "after-ghost" can only run if the failed spawn released its core.
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"ghost\"\ncpu = 1\ncommand = \"wpit-no-such-program\"\n"
             "[[job]]\nname = \"after-ghost\"\ncpu = 1\nargv = " +
                 job_argv({"--touch", dir.str("ran")}) + "\n");
  RunResult r = run_wp({"run", "--cpus", "1", "--keep-going", dir.str("jobs.toml")});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK(fs::exists(dir / "ran"));
}

namespace {

// Ignores a signal in this process, as nohup or a shell's background job
// does to what it starts, until the scope ends; wp inherits that.
class IgnoredSignal {
 public:
  explicit IgnoredSignal(int signal_number) : signal_(signal_number) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigaction(signal_, &ignore, &old_);
  }
  ~IgnoredSignal() { sigaction(signal_, &old_, nullptr); }
  IgnoredSignal(const IgnoredSignal&) = delete;
  IgnoredSignal& operator=(const IgnoredSignal&) = delete;

 private:
  int signal_;
  struct sigaction old_ {};
};

}  // namespace

TEST_CASE("a job starts with no signal ignored or blocked, whatever wp inherited",
          "[integration]") {
  // wp ignores SIGPIPE and blocks what it reads from its signalfd; SIGUSR1
  // and SIGALRM come ignored from here. None of it may reach a job, with a
  // cgroup (wp's own steps after vfork) or without (posix_spawn).
  IgnoredSignal usr1(SIGUSR1);
  IgnoredSignal alarm(SIGALRM);
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"sig\"\nargv = [\"grep\", \"-E\", \"^Sig(Ign|Blk)\", "
             "\"/proc/self/status\"]\n");
  for (const char* mode : {"auto", "off"}) {
    RunResult r = run_wp({"run", "--cgroup", mode, dir.str("jobs.toml")});
    INFO(mode << ": " << r.describe());
    CHECK(r.exit_code == 0);
    CHECK(has_line(r.out, "[sig] SigBlk:\t0000000000000000"));
    const std::string ignored_prefix = "[sig] SigIgn:\t";
    size_t at = r.out.find(ignored_prefix);
    REQUIRE(at != std::string::npos);
    uint64_t ignored = std::stoull(r.out.substr(at + ignored_prefix.size(), 16), nullptr, 16);
    // Bit n-1 is signal n. (glibc's posix_spawn leaves its own two signals,
    // 32 and 33, ignored: not ours to change.)
    for (int sig : {SIGUSR1, SIGALRM, SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD}) {
      INFO("signal " << sig);
      CHECK((ignored & (uint64_t{1} << (sig - 1))) == 0);
    }
  }
}

TEST_CASE("a job whose directory is missing fails with a message naming it", "[integration]") {
  TempDir dir;
  write_file(dir / "jobs.toml",
             "[[job]]\nname = \"nowhere\"\ncwd = \"missing-dir\"\ncommand = \"true\"\n");
  for (const char* mode : {"auto", "off"}) {
    RunResult r = run_wp({"run", "--cgroup", mode, dir.str("jobs.toml")});
    INFO(mode << ": " << r.describe());
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "missing-dir' is not a directory"));
  }
}
