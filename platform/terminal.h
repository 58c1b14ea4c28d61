// What wp asks of the terminal it prints to, and of the terminal `wp exec`
// shares with its command. Implemented per platform
// (platform/linux/terminal.cpp).
#pragma once

#include <sys/types.h>

#include <optional>

namespace wp::platform {

bool is_terminal(int fd);
// The width in columns of the terminal on `fd`; nullopt when `fd` is not a
// terminal or the terminal does not say.
std::optional<int> terminal_columns(int fd);

struct TerminalSize {
  int columns = 0;
  int rows = 0;
};
// Both figures of the terminal on `fd` (TIOCGWINSZ); nullopt as above, or
// when it gives no rows.
std::optional<TerminalSize> terminal_size(int fd);

// The terminal on `fd` while wp is its shell's foreground job: a job put in
// a process group of its own must be handed the terminal, as a shell hands
// it to the job it runs, or it is stopped (SIGTTIN) as soon as it reads and
// Ctrl-C/Ctrl-Z reach wp instead of it. Whatever it was given to is given
// back to wp's group by take_back() and by the destructor.
class Foreground {
 public:
  // The terminal on `fd` when it is one, wp's process group is its
  // foreground group and wp leads that group (a shell's job: under make or
  // a script wp shares its parent's group, and the terminal, with Ctrl-C,
  // stays theirs), unless `output_fd` is a pipe (in `wp exec -- git log |
  // less` the pager reads the terminal); else nullopt.
  static std::optional<Foreground> claim(int fd, int output_fd);
  Foreground(Foreground&& other) noexcept;
  Foreground& operator=(Foreground&&) = delete;
  Foreground(const Foreground&) = delete;
  Foreground& operator=(const Foreground&) = delete;
  ~Foreground();  // take_back()

  // Makes `pgid` the foreground group (SIGTTOU blocked: wp may be in the
  // background by then, when the job's child made itself foreground).
  void give(pid_t pgid);
  // wp's own group in the foreground again, when it had given it away.
  void take_back();
  // Whether wp's group is the foreground group now (after a stop: `fg`
  // gave it back, `bg` did not).
  bool in_foreground() const;
  int fd() const { return fd_; }

 private:
  Foreground(int fd, pid_t own) : fd_(fd), own_(own) {}
  int fd_ = -1;  // not owned: wp's stdin
  pid_t own_ = 0;
  bool given_ = false;
};

// Stops wp as Ctrl-Z stops a shell's job (SIGTSTP at its default action,
// whatever wp inherited) and returns once it is continued (`fg` or `bg`).
// Returns at once when the kernel discards the stop (an orphaned process
// group: no shell is there to continue it).
void stop_as_job();

}  // namespace wp::platform
