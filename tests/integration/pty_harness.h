// wp on a pseudo-terminal, as a user in a shell runs it: stdout and stderr
// are the terminal (openpty), whose size the test sets and changes. And a
// small terminal emulator, to see what the bytes wp wrote leave on screen.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "wp_harness.h"

namespace wpit {

struct TerminalResult {
  int exit_code = -1;
  int term_signal = 0;
  bool timed_out = false;
  std::string raw;  // every byte wp (and its jobs, through it) wrote to the terminal
  std::string describe() const;
};

class PtyProcess : public PumpedProcess {
 public:
  PtyProcess(const std::vector<std::string>& args, const RunOptions& options, int columns,
             int rows);
  ~PtyProcess() override;
  PtyProcess(const PtyProcess&) = delete;
  PtyProcess& operator=(const PtyProcess&) = delete;
  PtyProcess(PtyProcess&&) = delete;
  PtyProcess& operator=(PtyProcess&&) = delete;

  // A new size, and SIGWINCH, as a terminal emulator does.
  void resize(int columns, int rows);
  // Reads until `ready(raw)` holds, wp exits, or the time is up.
  bool wait_for(const std::function<bool(const std::string&)>& ready, milliseconds timeout);
  TerminalResult finish(milliseconds timeout);
  const std::string& raw() const { return result_.raw; }

 private:
  void pump(int poll_ms) override;
  bool output_open() const override { return master_ >= 0; }

  int master_ = -1;
  TerminalResult result_;
};

TerminalResult run_wp_on_terminal(const std::vector<std::string>& args, const RunOptions& options,
                                  int columns = 100, int rows = 30);

// The screen `raw` leaves on a terminal `columns` wide, every line from the
// first (nothing scrolls away), trailing empty lines dropped. Understands
// what wp writes: text, \r, \n, ESC[nA, ESC[J, ESC[K and colours (ignored).
std::vector<std::string> screen_of(const std::string& raw, int columns);

}  // namespace wpit
