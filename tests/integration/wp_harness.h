// Helpers for integration tests that drive the real wp binary: temporary
// directories, manifests, running wp with a hard timeout, and looking at what
// the jobs left behind (records, marker files, processes in /proc).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mini_json.h"

namespace wpit {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

const std::string& wp_binary();
const std::string& testjob();
// The synthetic job with known use of memory, CPU and I/O (tests/helpers/usejob.cpp).
const std::string& usejob();

// A fresh directory under $TMPDIR (or /tmp). Its destructor SIGKILLs any
// process whose command line mentions the directory (every job a test starts
// writes its records and markers there), so a failing test does not leave
// sleepers behind, then removes the tree.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }
  fs::path operator/(std::string_view name) const { return path_ / name; }
  std::string str(std::string_view name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// TOML literals for building manifests in tests.
std::string toml_string(std::string_view text);
std::string toml_array(const std::vector<std::string>& items);
// `argv = [...]` value running the test job with the given arguments.
std::string job_argv(const std::vector<std::string>& args);
// The same for the usage job.
std::string usejob_argv(const std::vector<std::string>& args);
// `command = "..."` value running the test job: no shell syntax, so wp may
// exec it directly (arguments must not need quoting).
std::string job_command(const std::vector<std::string>& args);

void write_file(const fs::path& file, std::string_view content);
std::string read_file(const fs::path& file);
std::vector<std::string> split_lines(std::string_view text);
bool has_line(std::string_view text, std::string_view line);
bool contains(std::string_view text, std::string_view needle);
std::string unique_token();

struct RunResult {
  int exit_code = -1;      // -1 unless wp exited normally
  int term_signal = 0;     // the signal that killed wp, if any
  bool timed_out = false;  // the harness had to kill wp
  std::string out;
  std::string err;
  double seconds = 0;
  std::string describe() const;  // for INFO(): status and both streams
};

struct RunOptions {
  fs::path cwd;  // default: the test's working directory
  milliseconds timeout{30'000};
  std::vector<std::pair<std::string, std::string>> env;  // added to the environment
  bool own_process_group = false;  // wp leads a process group of its own, as under a CI runner
};

// wp running in the background with its stdout and stderr captured. The
// output pipes are drained while waiting, so wp never blocks on a full pipe.
// A wp a harness started and reads from while it waits (WpProcess through
// pipes, PtyProcess through a pseudo-terminal): reaping it, waiting on it,
// ending it.
class PumpedProcess {
 public:
  PumpedProcess(const PumpedProcess&) = delete;
  PumpedProcess& operator=(const PumpedProcess&) = delete;
  PumpedProcess(PumpedProcess&&) = delete;
  PumpedProcess& operator=(PumpedProcess&&) = delete;

  pid_t pid() const { return pid_; }
  void send(int signal_number) const;

 protected:
  PumpedProcess() = default;
  virtual ~PumpedProcess();  // SIGKILLs and reaps wp if it is still running

  // Reads what wp wrote, waiting at most `poll_ms` for it to come.
  virtual void pump(int poll_ms) = 0;
  // Whether more of it may come (a pipe, or the terminal, still open).
  virtual bool output_open() const = 0;

  bool reap(bool block);
  // Pumps until `ready` holds, wp exits, or the time is up (and then reads
  // what is there once more).
  bool pump_until(const std::function<bool()>& ready, milliseconds timeout);
  struct Ending {
    int exit_code = -1;
    int term_signal = 0;
    bool timed_out = false;
  };
  // Waits for wp to exit, SIGKILLed after `timeout`; then reads what is
  // left for at most 2 s (a process wp leaked its output to could hold it
  // open for ever).
  Ending end(milliseconds timeout);

  pid_t pid_ = -1;

 private:
  bool exited_ = false;
  int status_ = 0;
};

class WpProcess : public PumpedProcess {
 public:
  explicit WpProcess(const std::vector<std::string>& args, const RunOptions& options = {});
  ~WpProcess() override;
  WpProcess(const WpProcess&) = delete;
  WpProcess& operator=(const WpProcess&) = delete;
  WpProcess(WpProcess&&) = delete;
  WpProcess& operator=(WpProcess&&) = delete;

  // Polls `ready` (every few ms) until it holds, wp exits, or the time is up.
  bool wait_until(const std::function<bool()>& ready, milliseconds timeout);
  // Waits for wp to exit; SIGKILLs it after `timeout` (result.timed_out).
  RunResult finish(milliseconds timeout);

 private:
  void pump(int poll_ms) override;
  bool output_open() const override { return out_fd_ >= 0 || err_fd_ >= 0; }

  int out_fd_ = -1;
  int err_fd_ = -1;
  RunResult result_;
  std::chrono::steady_clock::time_point started_;
};

RunResult run_wp(const std::vector<std::string>& args, const RunOptions& options = {});

// For harnesses of their own (a pseudo-terminal, see pty_harness.h): what
// WpProcess does before fork, and in the child, with wp's stdout and stderr.
void prepare_to_run_wp();
[[noreturn]] void exec_wp(const std::vector<std::string>& args, const RunOptions& options,
                          int out_fd, int err_fd);

// A /proc file of a process that may exit while it is read (read(2) then
// fails with ESRCH, which std::ifstream turns into an exception): whatever
// was read, possibly nothing.
std::string read_proc_file(const std::string& path);

// Live (non-zombie) processes whose command line contains `token`.
std::vector<pid_t> pids_with_token(std::string_view token);
// True once no live process carries `token` (checked until `timeout`).
bool wait_until_no_token(std::string_view token, milliseconds timeout);
bool wait_for_file(const fs::path& file, milliseconds timeout);

// The tests run as a child subreaper, so a process that wp left unreaped is
// handed to us when wp exits. Returns true if `pid` is such a process (it is
// reaped here); false if wp had reaped it itself.
bool left_unreaped_by_wp(pid_t pid);
pid_t pid_from_file(const fs::path& file);

struct Record {
  std::string name;
  long long start_ns = 0;
  long long end_ns = 0;
};
std::vector<Record> read_records(const fs::path& file);
const Record* find_record(const std::vector<Record>& records, std::string_view name);

// Parses wp's JSON, failing the test with the parse error when it is invalid.
Json parse_json(const std::string& text);
// The entry for job `name` in a run summary's "jobs" array (throws if absent).
const Json& job_named(const Json& summary, std::string_view name);
std::vector<std::string> statuses_of(const Json& summary);

unsigned online_cpus();

// Ends the test case, with a warning, on a machine with fewer than `n`
// CPUs (online and allowed).
#define SKIP_WITH_FEWER_CPUS(n)                           \
  do {                                                    \
    if (wpit::online_cpus() < (n)) {                      \
      WARN("skipped: needs at least " << (n) << " CPUs"); \
      return;                                             \
    }                                                     \
  } while (false)

}  // namespace wpit
