// `wp exec` typed at an interactive shell: the command gets the terminal as
// the shell's own command would (reads it, gets Ctrl-C and Ctrl-Z), and wp
// takes it back when the command ends. Each test plays the shell: a session
// on a pseudo-terminal whose leader runs wp as its foreground job.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "wp_harness.h"

using namespace wpit;

namespace {

// What the shell saw of its job.
struct ShellReport {
  int status = -1;       // wp's wait status
  int stops = 0;         // times wp stopped (Ctrl-Z)
  pid_t fg_at_stop = 0;  // the terminal's foreground group when wp stopped
  pid_t fg_after = 0;    // the terminal's foreground group once wp had exited
};

std::vector<std::string> wp_environment(const TempDir& dir) {
  std::vector<std::string> env;
  for (char** var = environ; *var != nullptr; ++var) {
    std::string entry = *var;
    for (const char* drop : {"WP_", "XDG_STATE_HOME=", "MAKEFLAGS=", "GITHUB_", "GITLAB_CI="}) {
      if (entry.rfind(drop, 0) == 0) entry.clear();
    }
    if (!entry.empty()) env.push_back(entry);
  }
  env.push_back("WP_DB=" + dir.str("wp.sqlite"));
  env.push_back("XDG_STATE_HOME=" + dir.str("state"));
  env.push_back("WP_RUNTIME_DIR=" + dir.str("run"));
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings)
    out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// The job: its own group, made the terminal's foreground before wp starts.
[[noreturn]] void exec_job(int terminal, char* const* argv, char* const* env) {
  ::setpgid(0, 0);
  ::tcsetpgrp(terminal, ::getpid());  // SIGTTOU blocked by the shell
  sigset_t empty;
  sigemptyset(&empty);
  ::sigprocmask(SIG_SETMASK, &empty, nullptr);
  for (int fd = 0; fd < 3; ++fd)
    ::dup2(terminal, fd);
  ::execve(argv[0], argv, env);
  ::_exit(127);
}

// The session leader: a shell with job control running wp as a job, `fg`
// after each stop. Reports on `report_fd`: wp's pid, then a ShellReport.
[[noreturn]] void play_shell(const char* terminal_name, int report_fd, char* const* argv,
                             char* const* env) {
  ::setsid();
  int terminal = ::open(terminal_name, O_RDWR);  // becomes the controlling terminal
  if (terminal < 0 || ::ioctl(terminal, TIOCSCTTY, 0) != 0) ::_exit(100);
  sigset_t ttou;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  ::sigprocmask(SIG_BLOCK, &ttou, nullptr);
  pid_t wp = ::fork();
  if (wp == 0) exec_job(terminal, argv, env);
  ::setpgid(wp, wp);
  ::tcsetpgrp(terminal, wp);
  if (::write(report_fd, &wp, sizeof wp) != sizeof wp) ::_exit(101);
  ShellReport report;
  int status = 0;
  while (::waitpid(wp, &status, WUNTRACED) == wp && WIFSTOPPED(status)) {
    ++report.stops;
    report.fg_at_stop = ::tcgetpgrp(terminal);
    ::tcsetpgrp(terminal, wp);  // `fg`
    ::kill(-wp, SIGCONT);
  }
  report.status = status;
  report.fg_after = ::tcgetpgrp(terminal);
  if (::write(report_fd, &report, sizeof report) != sizeof report) ::_exit(102);
  ::_exit(0);
}

class PtyShell {
 public:
  PtyShell(const TempDir& dir, std::vector<std::string> command) {
    master_ = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    REQUIRE(master_ >= 0);
    REQUIRE(::grantpt(master_) == 0);
    REQUIRE(::unlockpt(master_) == 0);
    std::string terminal_name = ::ptsname(master_);
    int report[2];
    REQUIRE(::pipe2(report, O_CLOEXEC) == 0);
    std::vector<std::string> args{wp_binary(), "exec", "--ledger", "off", "--"};
    args.insert(args.end(), command.begin(), command.end());
    std::vector<std::string> env = wp_environment(dir);
    std::vector<char*> argv = c_strings(args);
    std::vector<char*> envp = c_strings(env);
    shell_ = ::fork();
    REQUIRE(shell_ >= 0);
    if (shell_ == 0) {
      ::close(report[0]);
      play_shell(terminal_name.c_str(), report[1], argv.data(), envp.data());
    }
    ::close(report[1]);
    report_ = report[0];
    REQUIRE(::read(report_, &wp_, sizeof wp_) == sizeof wp_);
  }
  ~PtyShell() {
    if (shell_ > 0) {
      ::kill(-wp_, SIGKILL);
      ::kill(shell_, SIGKILL);
      ::waitpid(shell_, nullptr, 0);
    }
    ::close(report_);
    ::close(master_);
  }
  PtyShell(const PtyShell&) = delete;
  PtyShell& operator=(const PtyShell&) = delete;

  pid_t wp() const { return wp_; }
  const std::string& output() const { return output_; }

  void type(std::string_view keys) {
    REQUIRE(::write(master_, keys.data(), keys.size()) == static_cast<ssize_t>(keys.size()));
  }

  // Reads the terminal until `text` has appeared `times` times since the
  // last call (a guard of 30 s against a hang, not a timing check).
  bool wait_for(std::string_view text, int times) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (count(text) < times) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd fd{master_, POLLIN, 0};
      if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
      char buffer[4096];
      ssize_t n = ::read(master_, buffer, sizeof buffer);
      if (n <= 0) return false;  // EIO: every process on the terminal is gone
      output_.append(buffer, static_cast<size_t>(n));
    }
    seen_ = output_.size();
    return true;
  }

  ShellReport finish() {
    ShellReport report;
    // Read the terminal meanwhile: output a full pty buffer holds back
    // would keep wp from ending.
    while (true) {
      pollfd fds[2] = {{report_, POLLIN, 0}, {master_, POLLIN, 0}};
      if (::poll(fds, 2, 30'000) <= 0) break;
      if (fds[1].revents & POLLIN) {
        char buffer[4096];
        ssize_t n = ::read(master_, buffer, sizeof buffer);
        if (n > 0) output_.append(buffer, static_cast<size_t>(n));
      }
      if (fds[0].revents != 0) {
        if (::read(report_, &report, sizeof report) != sizeof report) report.status = -1;
        break;
      }
    }
    if (report.status == -1) {
      // wp hangs (a command stopped in the background): end the session.
      ::kill(-wp_, SIGKILL);
      ::kill(shell_, SIGKILL);
    }
    ::waitpid(shell_, nullptr, 0);
    shell_ = -1;
    return report;
  }

 private:
  int count(std::string_view text) const {
    int found = 0;
    for (size_t at = output_.find(text, seen_); at != std::string::npos;
         at = output_.find(text, at + text.size()))
      ++found;
    return found;
  }

  int master_ = -1;
  int report_ = -1;
  pid_t shell_ = -1;
  pid_t wp_ = -1;
  std::string output_;
  size_t seen_ = 0;
};

}  // namespace

TEST_CASE("wp exec on a terminal gives the command the terminal and takes it back",
          "[integration][terminal]") {
  TempDir dir;
  PtyShell shell(dir, {"cat"});
  shell.type("hello\n");
  // The terminal's echo, then cat's copy: cat read it, so it has the terminal.
  bool echoed = shell.wait_for("hello", 2);
  INFO(shell.output());
  CHECK(echoed);
  shell.type("\x04");  // ^D: end of file
  ShellReport report = shell.finish();
  INFO(shell.output());
  REQUIRE(WIFEXITED(report.status));
  CHECK(WEXITSTATUS(report.status) == 0);
  CHECK(report.stops == 0);
  CHECK(report.fg_after == shell.wp());
}

TEST_CASE("wp exec on a terminal: a shell's read gets the line typed", "[integration][terminal]") {
  TempDir dir;
  PtyShell shell(dir, {"sh", "-c", "read x; echo got $x"});
  shell.type("abc\n");
  bool answered = shell.wait_for("got abc", 1);
  ShellReport report = shell.finish();
  INFO(shell.output());
  CHECK(answered);
  REQUIRE(WIFEXITED(report.status));
  CHECK(WEXITSTATUS(report.status) == 0);
  CHECK(report.fg_after == shell.wp());
}

TEST_CASE("wp exec on a terminal: Ctrl-C ends the command, wp exits 130",
          "[integration][terminal]") {
  TempDir dir;
  PtyShell shell(dir, {"cat"});
  shell.type("ping\n");
  REQUIRE(shell.wait_for("ping", 2));
  shell.type("\x03");  // ^C: SIGINT to the foreground group, the command's
  ShellReport report = shell.finish();
  INFO(shell.output());
  REQUIRE(WIFEXITED(report.status));
  CHECK(WEXITSTATUS(report.status) == 130);
  CHECK(report.fg_after == shell.wp());
}

TEST_CASE("wp exec on a terminal: Ctrl-Z stops wp with the command, fg resumes both",
          "[integration][terminal]") {
  TempDir dir;
  PtyShell shell(dir, {"cat"});
  shell.type("one\n");
  REQUIRE(shell.wait_for("one", 2));
  shell.type("\x1a");  // ^Z: SIGTSTP to the command's group
  // Read by cat only once the shell has continued wp, and wp cat.
  shell.type("two\n");
  bool resumed = shell.wait_for("two", 2);
  INFO(shell.output());
  CHECK(resumed);
  shell.type("\x04");
  ShellReport report = shell.finish();
  INFO(shell.output());
  CHECK(report.stops == 1);
  // wp took the terminal back before it stopped, as a shell expects.
  CHECK(report.fg_at_stop == shell.wp());
  REQUIRE(WIFEXITED(report.status));
  CHECK(WEXITSTATUS(report.status) == 0);
  CHECK(report.fg_after == shell.wp());
}
