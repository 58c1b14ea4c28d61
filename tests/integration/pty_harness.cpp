#include "pty_harness.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace wpit {
namespace {

winsize size_of(int columns, int rows) {
  winsize size{};
  size.ws_col = static_cast<unsigned short>(columns);
  size.ws_row = static_cast<unsigned short>(rows);
  return size;
}

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// The emulator's screen: rows of cells, each cell one UTF-8 character.
class Screen {
 public:
  explicit Screen(int columns) : columns_(static_cast<size_t>(columns)) {}

  void feed(const std::string& raw) {
    for (size_t i = 0; i < raw.size(); ++i) {
      char c = raw[i];
      if (c == '\x1b' && i + 1 < raw.size() && raw[i + 1] == '[') {
        i = csi(raw, i + 2);
      } else if (c == '\r') {
        col_ = 0;
      } else if (c == '\n') {
        ++row_;  // the pty's ONLCR sends \r first
      } else if (is_continuation(c)) {
        if (!last_.empty()) cell(last_row_, last_col_) += c;
      } else {
        put(c);
      }
    }
  }

  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    for (const auto& row : rows_) {
      std::string line;
      for (const auto& cell : row)
        line += cell.empty() ? " " : cell;
      while (!line.empty() && line.back() == ' ')
        line.pop_back();
      out.push_back(line);
    }
    while (!out.empty() && out.back().empty())
      out.pop_back();
    return out;
  }

 private:
  std::string& cell(size_t row, size_t col) {
    if (rows_.size() <= row) rows_.resize(row + 1);
    if (rows_[row].size() <= col) rows_[row].resize(col + 1);
    return rows_[row][col];
  }

  void put(char c) {
    if (col_ >= columns_) {  // autowrap
      ++row_;
      col_ = 0;
    }
    cell(row_, col_) = std::string(1, c);
    last_ = cell(row_, col_);
    last_row_ = row_;
    last_col_ = col_;
    ++col_;
  }

  // A control sequence from `i` (after "ESC["); returns its last index.
  size_t csi(const std::string& raw, size_t i) {
    std::string params;
    while (i < raw.size() && !(raw[i] >= '@' && raw[i] <= '~'))
      params += raw[i++];
    if (i >= raw.size()) return i;
    int n = params.empty() ? 1 : std::atoi(params.c_str());
    switch (raw[i]) {
      case 'A':
        row_ = row_ >= static_cast<size_t>(n) ? row_ - static_cast<size_t>(n) : 0;
        break;
      case 'J':  // to the end of the screen
        if (row_ < rows_.size()) {
          if (rows_[row_].size() > col_) rows_[row_].resize(col_);
          rows_.resize(row_ + 1);
        }
        break;
      case 'K':
        if (row_ < rows_.size() && rows_[row_].size() > col_) rows_[row_].resize(col_);
        break;
      default:  // colours and the like: no effect on the text
        break;
    }
    return i;
  }

  size_t columns_;
  std::vector<std::vector<std::string>> rows_;
  size_t row_ = 0;
  size_t col_ = 0;
  std::string last_;
  size_t last_row_ = 0;
  size_t last_col_ = 0;
};

}  // namespace

std::string TerminalResult::describe() const {
  std::ostringstream text;
  text << "wp exit=" << exit_code << " signal=" << term_signal
       << (timed_out ? " (TIMED OUT, killed by the test)" : "") << "\n--- terminal bytes ---\n";
  std::string shown = raw.size() > 8000 ? "..." + raw.substr(raw.size() - 8000) : raw;
  for (char c : shown) {
    if (c == '\x1b') {
      text << "\\e";
    } else if (c == '\r') {
      text << "\\r";
    } else {
      text << c;
    }
  }
  text << "\n---";
  return text.str();
}

PtyProcess::PtyProcess(const std::vector<std::string>& args, const RunOptions& options, int columns,
                       int rows) {
  prepare_to_run_wp();
  int slave = -1;
  winsize size = size_of(columns, rows);
  if (openpty(&master_, &slave, nullptr, nullptr, &size) != 0) {
    throw std::runtime_error(std::string("openpty: ") + std::strerror(errno));
  }
  ::fcntl(master_, F_SETFD, FD_CLOEXEC);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // A session of its own with the terminal as its controlling one, as a
    // shell gives a foreground command.
    setsid();
    ioctl(slave, TIOCSCTTY, 0);
    exec_wp(args, options, slave, slave);
  }
  close(slave);
}

PtyProcess::~PtyProcess() {
  if (master_ >= 0) close(master_);
}

void PtyProcess::resize(int columns, int rows) {
  winsize size = size_of(columns, rows);
  ioctl(master_, TIOCSWINSZ, &size);  // the kernel signals the foreground group
  send(SIGWINCH);                     // and wp for sure
}

void PtyProcess::pump(int poll_ms) {
  if (master_ < 0) return;
  pollfd fd{master_, POLLIN, 0};
  if (poll(&fd, 1, poll_ms) <= 0) return;
  char buffer[65536];
  ssize_t n = read(master_, buffer, sizeof buffer);
  if (n > 0) {
    result_.raw.append(buffer, static_cast<size_t>(n));
  } else if (n == 0 || errno != EINTR) {
    // EIO: every process that had the terminal open has closed it.
    close(master_);
    master_ = -1;
  }
}

bool PtyProcess::wait_for(const std::function<bool(const std::string&)>& ready,
                          milliseconds timeout) {
  return pump_until([&] { return ready(result_.raw); }, timeout);
}

TerminalResult PtyProcess::finish(milliseconds timeout) {
  Ending ending = end(timeout);
  result_.exit_code = ending.exit_code;
  result_.term_signal = ending.term_signal;
  result_.timed_out = ending.timed_out;
  return result_;
}

TerminalResult run_wp_on_terminal(const std::vector<std::string>& args, const RunOptions& options,
                                  int columns, int rows) {
  PtyProcess wp(args, options, columns, rows);
  return wp.finish(options.timeout);
}

std::vector<std::string> screen_of(const std::string& raw, int columns) {
  Screen screen(columns);
  screen.feed(raw);
  return screen.lines();
}

}  // namespace wpit
