// The live status area of `wp run` at the bottom of the terminal, below the
// jobs' output lines, like ninja's or cargo's: before any line is printed the
// area is erased (see util/console.h), and the run loop puts it back after.
// What it shows is report::render_progress()'s; this draws it. Driven by the
// run loop's timer, never by a thread of its own.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "report/progress.h"

namespace wp::exec {

enum class ProgressMode { Auto, Always, Never };

struct ProgressOptions {
  bool enabled = false;
  int fd = 2;  // where the area is drawn: standard error
  bool unicode = false;
  bool color = false;
};

// The area is drawn on standard error: standard output carries the jobs'
// lines (or the --json document), which users redirect to a file while
// still watching the run; wp's own messages are on standard error already.
// Auto draws it only where it can be read and erased: standard error is a
// terminal that understands escape sequences ($TERM set, not "dumb"), -q
// did not ask for failures only, and NO_COLOR is unset or empty: wp promises
// no escape sequences of its own then (but GitLab's markers), and the
// area's cursor movements are some; --progress always draws it, colourless.
// Null pointers are unset variables.
bool progress_wanted(ProgressMode mode, bool stderr_is_terminal, const char* term,
                     const char* no_color, bool quiet);
// Block characters when the locale's character set is UTF-8 ($LC_ALL, else
// $LC_CTYPE, else $LANG, the first set and not empty).
bool utf8_locale(const char* lc_all, const char* lc_ctype, const char* lang);
// Colours unless NO_COLOR is set and not empty (no-color.org), or $TERM is
// unset or "dumb".
bool color_wanted(const char* no_color, const char* term);
// Everything above, from this process's environment and standard error.
ProgressOptions progress_options(ProgressMode mode, bool quiet);

class StatusArea {
 public:
  using Clock = std::chrono::steady_clock;
  // A new picture at most this often: the figures change by the second.
  static constexpr std::chrono::milliseconds kInterval{100};

  // Takes the terminal's size, and registers erase() as the console hook.
  explicit StatusArea(const ProgressOptions& options);
  ~StatusArea();  // erases the area and removes the hook: the summary stands alone
  StatusArea(const StatusArea&) = delete;
  StatusArea& operator=(const StatusArea&) = delete;

  const report::ProgressStyle& style() const { return style_; }
  bool due(Clock::time_point now) const { return now >= next_; }
  Clock::time_point next_due() const { return next_; }

  // The terminal changed size (SIGWINCH): read it again; redraw at once.
  void resize();
  // Replaces the picture: erases the old one and draws `lines` in one write.
  void show(std::vector<std::string> lines, Clock::time_point now);
  // Draws the picture again if output took it off the screen.
  void restore();
  // Takes the picture off the screen; the cursor is left where it began.
  void erase();

 private:
  std::string erase_sequence() const;
  void paint(std::string prefix);

  int fd_;
  // Standard output is the same file as the area's (the terminal, usually):
  // its lines too must wait for the area to be erased; else they need not.
  bool stdout_shared_;
  report::ProgressStyle style_;
  std::vector<std::string> lines_;  // the picture
  size_t drawn_ = 0;                // its lines on the screen now; 0: erased
  Clock::time_point next_{};
};

}  // namespace wp::exec
