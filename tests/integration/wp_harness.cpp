#include "wp_harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <catch2/catch.hpp>

#include "report/json_writer.h"

namespace wpit {
namespace {

std::string environment_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

fs::path make_temp_dir(const std::string& prefix) {
  std::string pattern = (fs::path(environment_or("TMPDIR", "/tmp")) / (prefix + "XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  return fs::canonical(pattern);
}

// One database and XDG state directory per test process, so runs never touch
// the user's real profiles and tests cannot see each other's history.
class StateDir {
 public:
  StateDir() : path_(make_temp_dir("wpit-state-")) {}
  ~StateDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  StateDir(const StateDir&) = delete;
  StateDir& operator=(const StateDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

const fs::path& state_dir() {
  static StateDir dir;
  return dir.path();
}

void become_subreaper() {
  static const bool done = [] {
    prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L);
    return true;
  }();
  (void)done;
}

}  // namespace

std::string read_proc_file(const std::string& path) {
  std::string text;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0)
    text.append(buffer, static_cast<size_t>(n));
  close(fd);
  return text;
}

namespace {

std::string cmdline_of(const std::string& pid) {
  std::string text = read_proc_file("/proc/" + pid + "/cmdline");
  for (char& c : text) {
    if (c == '\0') c = ' ';
  }
  return text;
}

char state_of(const std::string& pid) {
  std::string text = read_proc_file("/proc/" + pid + "/stat");
  // The state follows the parenthesised command name, which may contain spaces.
  auto close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() ? text[close + 2] : '?';
}

void reap_orphans() {
  int status = 0;
  while (waitpid(-1, &status, WNOHANG) > 0) {
  }
}

std::string tail(const std::string& text, size_t limit) {
  return text.size() <= limit ? text : "..." + text.substr(text.size() - limit);
}

}  // namespace

[[noreturn]] void exec_wp(const std::vector<std::string>& args, const RunOptions& options,
                          int out_fd, int err_fd) {
  // Only async-signal-safe-enough work here: the test process is single-threaded.
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT})
    signal(sig, SIG_DFL);
  int null_fd = open("/dev/null", O_RDONLY);
  dup2(null_fd, STDIN_FILENO);
  dup2(out_fd, STDOUT_FILENO);
  dup2(err_fd, STDERR_FILENO);
  for (int fd = 3; fd < 1024; ++fd)
    close(fd);
  if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(126);
  if (options.own_process_group) setpgid(0, 0);
  setenv("WP_DB", (state_dir() / "wp.sqlite").c_str(), 1);
  setenv("XDG_STATE_HOME", state_dir().c_str(), 1);
  // A ledger of the test's own: tests run side by side, each as if alone on
  // the machine; those that share one say so with WP_RUNTIME_DIR.
  setenv("WP_RUNTIME_DIR", (state_dir() / "run").c_str(), 1);
  unsetenv("MAKEFLAGS");
  unsetenv("WP_LEDGER");
  unsetenv("WP_JOB_NAME");
  unsetenv("WP_JOB_ATTEMPT");
  // The suite may itself run in GitHub Actions or GitLab CI, whose variables
  // would turn wp's job output into CI blocks: tests that want them say so.
  for (const char* name : {"GITHUB_ACTIONS", "GITHUB_WORKSPACE", "GITLAB_CI"})
    unsetenv(name);
  for (const auto& [name, value] : options.env)
    setenv(name.c_str(), value.c_str(), 1);
  std::vector<char*> argv;
  std::string binary = wp_binary();
  argv.push_back(binary.data());
  std::vector<std::string> copy = args;
  for (auto& arg : copy)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  _exit(127);
}

void prepare_to_run_wp() {
  become_subreaper();
  (void)state_dir();  // created before fork so the child only reads the path
}

const std::string& wp_binary() {
  static const std::string path = WP_BINARY;
  return path;
}

const std::string& testjob() {
  static const std::string path = WP_TESTJOB;
  return path;
}

const std::string& usejob() {
  static const std::string path = WP_USEJOB;
  return path;
}

TempDir::TempDir() : path_(make_temp_dir("wpit-")) {}

TempDir::~TempDir() {
  const std::string needle = path_.string() + "/";
  std::vector<pid_t> strays = pids_with_token(needle);
  for (pid_t pid : strays)
    kill(pid, SIGKILL);
  if (!strays.empty()) std::this_thread::sleep_for(milliseconds(100));
  reap_orphans();
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

// TOML basic strings take the same escapes as JSON strings.
std::string toml_string(std::string_view text) {
  return "\"" + wp::report::json_escape(text) + "\"";
}

std::string toml_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i)
    out += (i > 0 ? ", " : "") + toml_string(items[i]);
  return out + "]";
}

std::string usejob_argv(const std::vector<std::string>& args) {
  std::vector<std::string> all = {usejob()};
  all.insert(all.end(), args.begin(), args.end());
  return toml_array(all);
}

std::string job_argv(const std::vector<std::string>& args) {
  std::vector<std::string> all = {testjob()};
  all.insert(all.end(), args.begin(), args.end());
  return toml_array(all);
}

std::string job_command(const std::vector<std::string>& args) {
  std::string command = testjob();
  for (const auto& arg : args)
    command += " " + arg;
  return toml_string(command);
}

void write_file(const fs::path& file, std::string_view content) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    size_t end = text.find('\n');
    if (end == std::string_view::npos) {
      lines.emplace_back(text);
      break;
    }
    lines.emplace_back(text.substr(0, end));
    text.remove_prefix(end + 1);
  }
  return lines;
}

bool has_line(std::string_view text, std::string_view line) {
  for (const auto& candidate : split_lines(text)) {
    if (candidate == line) return true;
  }
  return false;
}

bool contains(std::string_view text, std::string_view needle) {
  return text.find(needle) != std::string_view::npos;
}

std::string unique_token() {
  static std::atomic<int> counter{0};
  std::random_device device;
  std::ostringstream token;
  token << "wpit-token-" << getpid() << "-" << counter++ << "-" << std::hex << device();
  return token.str();
}

std::string RunResult::describe() const {
  std::ostringstream text;
  text << "wp exit=" << exit_code << " signal=" << term_signal
       << (timed_out ? " (TIMED OUT, killed by the test)" : "") << " after " << seconds << "s\n"
       << "--- wp stdout ---\n"
       << tail(out, 6000) << "\n--- wp stderr ---\n"
       << tail(err, 6000) << "\n---";
  return text.str();
}

WpProcess::WpProcess(const std::vector<std::string>& args, const RunOptions& options) {
  prepare_to_run_wp();
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2 failed");
  }
  started_ = std::chrono::steady_clock::now();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) exec_wp(args, options, out_pipe[1], err_pipe[1]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
}

PumpedProcess::~PumpedProcess() {
  if (!exited_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    reap(true);
  }
}

void PumpedProcess::send(int signal_number) const {
  if (!exited_) kill(pid_, signal_number);
}

bool PumpedProcess::reap(bool block) {
  if (exited_) return true;
  if (waitpid(pid_, &status_, block ? 0 : WNOHANG) == pid_) exited_ = true;
  return exited_;
}

bool PumpedProcess::pump_until(const std::function<bool()>& ready, milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ready()) {
    if (reap(false) || std::chrono::steady_clock::now() >= deadline) {
      pump(0);
      return ready();
    }
    pump(10);
  }
  return true;
}

PumpedProcess::Ending PumpedProcess::end(milliseconds timeout) {
  Ending ending;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reap(false)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ending.timed_out = true;
      kill(pid_, SIGKILL);
      reap(true);
      break;
    }
    pump(20);
  }
  auto drain_deadline = std::chrono::steady_clock::now() + milliseconds(2000);
  while (output_open() && std::chrono::steady_clock::now() < drain_deadline)
    pump(20);
  if (WIFEXITED(status_)) ending.exit_code = WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) ending.term_signal = WTERMSIG(status_);
  return ending;
}

WpProcess::~WpProcess() {
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

void WpProcess::pump(int poll_ms) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (out_fd_ < 0 && err_fd_ < 0) {
    std::this_thread::sleep_for(milliseconds(poll_ms));
    return;
  }
  if (poll(fds, 2, poll_ms) <= 0) return;
  std::string* sinks[2] = {&result_.out, &result_.err};
  int* owners[2] = {&out_fd_, &err_fd_};
  for (int i = 0; i < 2; ++i) {
    if (fds[i].fd < 0 || fds[i].revents == 0) continue;
    char buffer[65536];
    ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
    if (n > 0) {
      sinks[i]->append(buffer, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      close(*owners[i]);
      *owners[i] = -1;
    }
  }
}

bool WpProcess::wait_until(const std::function<bool()>& ready, milliseconds timeout) {
  return pump_until(ready, timeout);
}

RunResult WpProcess::finish(milliseconds timeout) {
  Ending ending = end(timeout);
  result_.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  result_.exit_code = ending.exit_code;
  result_.term_signal = ending.term_signal;
  result_.timed_out = ending.timed_out;
  return result_;
}

RunResult run_wp(const std::vector<std::string>& args, const RunOptions& options) {
  WpProcess wp(args, options);
  return wp.finish(options.timeout);
}

std::vector<pid_t> pids_with_token(std::string_view token) {
  std::vector<pid_t> pids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return pids;
  while (dirent* entry = readdir(proc)) {
    std::string name = entry->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid == getpid()) continue;
    if (!contains(cmdline_of(name), token)) continue;
    char state = state_of(name);
    if (state == 'Z' || state == 'X') continue;
    pids.push_back(pid);
  }
  closedir(proc);
  return pids;
}

bool wait_until_no_token(std::string_view token, milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pids_with_token(token).empty()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return true;
}

bool wait_for_file(const fs::path& file, milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!fs::exists(file)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

bool left_unreaped_by_wp(pid_t pid) {
  int status = 0;
  pid_t result = waitpid(pid, &status, WNOHANG);
  if (result == 0) {
    // Still running and now ours: certainly not cleaned up by wp.
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return true;
  }
  return result == pid;
}

pid_t pid_from_file(const fs::path& file) {
  return static_cast<pid_t>(std::stol(read_file(file)));
}

std::vector<Record> read_records(const fs::path& file) {
  std::vector<Record> records;
  if (!fs::exists(file)) return records;
  for (const auto& line : split_lines(read_file(file))) {
    std::istringstream fields(line);
    Record record;
    if (fields >> record.name >> record.start_ns >> record.end_ns) records.push_back(record);
  }
  return records;
}

const Record* find_record(const std::vector<Record>& records, std::string_view name) {
  for (const auto& record : records) {
    if (record.name == name) return &record;
  }
  return nullptr;
}

Json parse_json(const std::string& text) {
  std::string error;
  auto document = Json::parse(text, &error);
  if (!document) FAIL("wp printed invalid JSON: " << error << "\n" << tail(text, 4000));
  return *document;
}

const Json& job_named(const Json& summary, std::string_view name) {
  for (const auto& job : summary["jobs"].as_array()) {
    if (job["name"].as_string() == name) return job;
  }
  throw std::runtime_error("no job '" + std::string(name) + "' in " + summary["jobs"].dump());
}

std::vector<std::string> statuses_of(const Json& summary) {
  std::vector<std::string> statuses;
  for (const auto& job : summary["jobs"].as_array()) {
    statuses.push_back(job["name"].as_string() + "=" + job["status"].as_string());
  }
  return statuses;
}

unsigned online_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return static_cast<unsigned>(CPU_COUNT(&set));
}

}  // namespace wpit
