// wp_testjob: a job with known behaviour for the integration tests.
//
// Standalone on purpose (C++20 + POSIX, no wp library): it must behave the
// same whatever state wp's own code is in. Every behaviour is a flag; the
// order of effects is fixed (see main) so tests can rely on it:
//   start time -> fds -> env/cwd -> children -> marker -> output -> sleep ->
//   record -> exit.
//
//   --name NAME             name used in records and numbered lines
//                           (default $WP_JOB_NAME, else "job")
//   --record FILE           append "NAME START_NS END_NS" (CLOCK_REALTIME) at exit,
//                           one O_APPEND write so concurrent jobs never interleave
//   --count-fds FILE        write "FD TARGET" for every open fd (including 0, 1, 2)
//   --print-env VAR         print "VAR=value" (or "VAR unset") on stdout; repeatable
//   --print-cwd             print "cwd=DIR" on stdout
//   --spawn-children N      fork N children that re-exec this program to sleep for
//                           10 minutes, carrying "--marker TOKEN" in their argv
//   --marker TOKEN          inert; makes this process findable in /proc/PID/cmdline
//   --setsid-child          children call setsid() (leave the job's process group)
//   --ignore-term           ignore SIGTERM (children inherit it)
//   --ignore-signals        ignore SIGTERM, SIGINT and SIGHUP (children inherit it)
//   --touch FILE            write our pid to FILE once started (after children are
//                           up: each child touches FILE.childI and we wait for it)
//   --stdout TEXT           print TEXT as a line on stdout; repeatable
//   --stderr TEXT           print TEXT as a line on stderr; repeatable
//   --stdout-raw TEXT       print TEXT on stdout without a newline
//   --lines N               print "NAME-line-1" .. "NAME-line-N" on stdout
//   --stderr-lines N        print "NAME-err-1" .. "NAME-err-N" on stderr
//   --long-line N           print one line of N 'x' characters on stdout
//   --chunk BYTES           write --lines output in chunks of BYTES with a short
//                           pause between them, so lines straddle pipe reads
//   --sleep-ms N            sleep N milliseconds
//   --fail-until-attempt N  exit 1 while $WP_JOB_ATTEMPT < N
//   --exit N                exit status (default 0)
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Options {
  std::string name;
  std::string record;
  std::string count_fds;
  std::vector<std::string> print_env;
  bool print_cwd = false;
  int spawn_children = 0;
  std::string marker;
  bool setsid_child = false;
  bool ignore_term = false;
  bool ignore_signals = false;
  std::string touch;
  std::vector<std::string> stdout_lines;
  std::vector<std::string> stderr_lines;
  std::string stdout_raw;
  long lines = 0;
  long stderr_lines_count = 0;
  long long_line = 0;
  long chunk = 0;
  long sleep_ms = 0;
  long fail_until_attempt = 0;
  int exit_code = 0;
};

[[noreturn]] void die(const std::string& message) {
  std::string text = "wp_testjob: " + message + "\n";
  (void)!write(STDERR_FILENO, text.data(), text.size());
  std::_Exit(99);
}

long parse_long(std::string_view flag, std::string_view text) {
  long value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    die("bad number '" + std::string(text) + "' for " + std::string(flag));
  }
  return value;
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + std::string(flag));
      return argv[++i];
    };
    if (flag == "--name") {
      options.name = value();
    } else if (flag == "--record") {
      options.record = value();
    } else if (flag == "--count-fds") {
      options.count_fds = value();
    } else if (flag == "--print-env") {
      options.print_env.push_back(value());
    } else if (flag == "--print-cwd") {
      options.print_cwd = true;
    } else if (flag == "--spawn-children") {
      options.spawn_children = static_cast<int>(parse_long(flag, value()));
    } else if (flag == "--marker") {
      options.marker = value();
    } else if (flag == "--setsid-child") {
      options.setsid_child = true;
    } else if (flag == "--ignore-term") {
      options.ignore_term = true;
    } else if (flag == "--ignore-signals") {
      options.ignore_signals = true;
    } else if (flag == "--touch") {
      options.touch = value();
    } else if (flag == "--stdout") {
      options.stdout_lines.push_back(value());
    } else if (flag == "--stderr") {
      options.stderr_lines.push_back(value());
    } else if (flag == "--stdout-raw") {
      options.stdout_raw = value();
    } else if (flag == "--lines") {
      options.lines = parse_long(flag, value());
    } else if (flag == "--stderr-lines") {
      options.stderr_lines_count = parse_long(flag, value());
    } else if (flag == "--long-line") {
      options.long_line = parse_long(flag, value());
    } else if (flag == "--chunk") {
      options.chunk = parse_long(flag, value());
    } else if (flag == "--sleep-ms") {
      options.sleep_ms = parse_long(flag, value());
    } else if (flag == "--fail-until-attempt") {
      options.fail_until_attempt = parse_long(flag, value());
    } else if (flag == "--exit") {
      options.exit_code = static_cast<int>(parse_long(flag, value()));
    } else {
      die("unknown flag " + std::string(flag));
    }
  }
  if (options.name.empty()) {
    const char* env_name = std::getenv("WP_JOB_NAME");
    options.name = env_name != nullptr ? env_name : "job";
  }
  return options;
}

long long now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<long long>(ts.tv_sec) * 1'000'000'000LL + ts.tv_nsec;
}

void sleep_ms(long ms) {
  timespec remaining{ms / 1000, (ms % 1000) * 1'000'000L};
  while (nanosleep(&remaining, &remaining) != 0 && errno == EINTR) {
  }
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // the reader went away; nothing useful left to do
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

void write_file_atomically(const std::string& path, std::string_view content) {
  std::string temp = path + ".tmp";
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("cannot create " + temp + ": " + std::strerror(errno));
  write_all(fd, content);
  close(fd);
  if (rename(temp.c_str(), path.c_str()) != 0) die("cannot rename to " + path);
}

void write_fd_list(const std::string& path) {
  std::string listing;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) die("cannot open /proc/self/fd");
  int own = dirfd(dir);
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    int fd = static_cast<int>(parse_long("fd", entry->d_name));
    if (fd == own) continue;
    char target[4096] = {};
    std::string link = std::string("/proc/self/fd/") + entry->d_name;
    ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    listing += std::to_string(fd) + " " +
               (n > 0 ? std::string(target, static_cast<size_t>(n)) : "?") + "\n";
  }
  closedir(dir);
  write_file_atomically(path, listing);
}

void print_environment(const Options& options) {
  std::string text;
  for (const auto& var : options.print_env) {
    const char* value = std::getenv(var.c_str());
    text += value != nullptr ? var + "=" + value + "\n" : var + " unset\n";
  }
  if (options.print_cwd) {
    char buffer[4096] = {};
    text += std::string("cwd=") + (getcwd(buffer, sizeof buffer) != nullptr ? buffer : "?") + "\n";
  }
  write_all(STDOUT_FILENO, text);
}

std::string self_exe() {
  char buffer[4096] = {};
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n <= 0) die("cannot read /proc/self/exe");
  return std::string(buffer, static_cast<size_t>(n));
}

// Children sleep for ten minutes: long enough that a test only passes if wp
// kills them, and not forever if wp does not.
void spawn_children(const Options& options) {
  std::string exe = self_exe();
  std::vector<std::string> touched;
  for (int i = 0; i < options.spawn_children; ++i) {
    std::vector<std::string> args = {exe, "--marker", options.marker, "--sleep-ms", "600000"};
    if (!options.touch.empty()) {
      touched.push_back(options.touch + ".child" + std::to_string(i));
      args.insert(args.end(), {"--touch", touched.back()});
    }
    if (options.ignore_term) args.emplace_back("--ignore-term");
    if (options.ignore_signals) args.emplace_back("--ignore-signals");
    pid_t pid = fork();
    if (pid < 0) die("fork failed");
    if (pid == 0) {
      if (options.setsid_child) setsid();
      std::vector<char*> raw;
      for (auto& arg : args)
        raw.push_back(arg.data());
      raw.push_back(nullptr);
      execv(raw[0], raw.data());
      std::_Exit(98);
    }
  }
  for (const auto& file : touched) {
    struct stat st {};
    for (int waited = 0; stat(file.c_str(), &st) != 0; waited += 5) {
      if (waited > 20'000) die("child did not start: " + file);
      sleep_ms(5);
    }
  }
}

std::string numbered_lines(const std::string& name, const char* kind, long count) {
  std::string text;
  for (long i = 1; i <= count; ++i)
    text += name + kind + std::to_string(i) + "\n";
  return text;
}

void write_chunked(int fd, std::string_view text, long chunk) {
  if (chunk <= 0) {
    write_all(fd, text);
    return;
  }
  while (!text.empty()) {
    size_t n = std::min(text.size(), static_cast<size_t>(chunk));
    write_all(fd, text.substr(0, n));
    text.remove_prefix(n);
    timespec pause{0, 20'000L};
    nanosleep(&pause, nullptr);
  }
}

void write_output(const Options& options) {
  std::string out;
  for (const auto& line : options.stdout_lines)
    out += line + "\n";
  write_all(STDOUT_FILENO, out);
  std::string err;
  for (const auto& line : options.stderr_lines)
    err += line + "\n";
  write_all(STDERR_FILENO, err);
  write_chunked(STDOUT_FILENO, numbered_lines(options.name, "-line-", options.lines),
                options.chunk);
  write_all(STDERR_FILENO, numbered_lines(options.name, "-err-", options.stderr_lines_count));
  if (options.long_line > 0) {
    write_all(STDOUT_FILENO, std::string(static_cast<size_t>(options.long_line), 'x') + "\n");
  }
  write_all(STDOUT_FILENO, options.stdout_raw);
}

void append_record(const Options& options, long long start, long long end) {
  if (options.record.empty()) return;
  int fd = open(options.record.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) die("cannot open " + options.record + ": " + std::strerror(errno));
  std::string line = options.name + " " + std::to_string(start) + " " + std::to_string(end) + "\n";
  write_all(fd, line);
  close(fd);
}

int exit_status(const Options& options) {
  if (options.fail_until_attempt > 0) {
    const char* attempt_text = std::getenv("WP_JOB_ATTEMPT");
    long attempt = attempt_text != nullptr ? parse_long("WP_JOB_ATTEMPT", attempt_text) : 0;
    if (attempt < options.fail_until_attempt) {
      std::string text = "failing on attempt " + std::to_string(attempt) + "\n";
      write_all(STDERR_FILENO, text);
      return 1;
    }
  }
  return options.exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  long long start = now_ns();
  Options options = parse(argc, argv);
  if (options.ignore_term || options.ignore_signals) signal(SIGTERM, SIG_IGN);
  if (options.ignore_signals) {
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
  }
  if (!options.count_fds.empty()) write_fd_list(options.count_fds);
  print_environment(options);
  if (options.spawn_children > 0) spawn_children(options);
  if (!options.touch.empty()) write_file_atomically(options.touch, std::to_string(getpid()));
  write_output(options);
  if (options.sleep_ms > 0) sleep_ms(options.sleep_ms);
  int status = exit_status(options);
  append_record(options, start, now_ns());
  return status;
}
