#include "platform/terminal.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <utility>

namespace wp::platform {

namespace {

// tcsetpgrp from a background group raises SIGTTOU unless it is blocked.
void set_foreground(int fd, pid_t pgid) {
  sigset_t ttou;
  sigset_t old;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  ::sigprocmask(SIG_BLOCK, &ttou, &old);
  // Fails when the group has gone (a job that ended at once): nothing to do.
  (void)::tcsetpgrp(fd, pgid);
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace

bool is_terminal(int fd) {
  return ::isatty(fd) == 1;
}

std::optional<int> terminal_columns(int fd) {
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_col == 0) return std::nullopt;
  return static_cast<int>(size.ws_col);
}

std::optional<TerminalSize> terminal_size(int fd) {
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_col == 0 || size.ws_row == 0) {
    return std::nullopt;
  }
  return TerminalSize{size.ws_col, size.ws_row};
}

std::optional<Foreground> Foreground::claim(int fd, int output_fd) {
  struct stat output {};
  if (!is_terminal(fd)) return std::nullopt;
  if (::fstat(output_fd, &output) == 0 && S_ISFIFO(output.st_mode)) return std::nullopt;
  pid_t own = ::getpgrp();
  if (own != ::getpid() || ::tcgetpgrp(fd) != own) return std::nullopt;
  return Foreground(fd, own);
}

Foreground::Foreground(Foreground&& other) noexcept
    : fd_(other.fd_), own_(other.own_), given_(std::exchange(other.given_, false)) {}

Foreground::~Foreground() {
  take_back();
}

void Foreground::give(pid_t pgid) {
  set_foreground(fd_, pgid);
  given_ = true;
}

void Foreground::take_back() {
  if (!given_) return;
  set_foreground(fd_, own_);
  given_ = false;
}

bool Foreground::in_foreground() const {
  return ::tcgetpgrp(fd_) == own_;
}

void stop_as_job() {
  struct sigaction stop {};
  struct sigaction old {};
  stop.sa_handler = SIG_DFL;
  sigemptyset(&stop.sa_mask);
  ::sigaction(SIGTSTP, &stop, &old);
  sigset_t tstp;
  sigset_t old_mask;
  sigemptyset(&tstp);
  sigaddset(&tstp, SIGTSTP);
  ::sigprocmask(SIG_UNBLOCK, &tstp, &old_mask);
  // Delivered before raise() returns: wp stops here until SIGCONT.
  ::raise(SIGTSTP);
  ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGTSTP, &old, nullptr);
}

}  // namespace wp::platform
