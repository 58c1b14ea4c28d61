// The live status area of `wp run` on a terminal, as text: a pure function
// from what the run looks like now to the lines to draw. The runner collects
// the snapshot and exec/status_area.h draws the lines; the tests feed it
// fixed snapshots.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "resources/quantity.h"

namespace wp::report {

struct ProgressJob {
  std::string name;
  double elapsed = 0;               // seconds since its attempt started
  std::optional<double> predicted;  // expected run time, from history
  bool paused = false;              // suspended by the memory-pressure guard
};

struct ProgressSnapshot {
  size_t done = 0;     // succeeded
  size_t running = 0;  // started and not ended (paused ones too)
  size_t queued = 0;   // not started yet: waiting for dependencies or capacity, or to retry
  size_t failed = 0;   // failed or timed out for good
  size_t skipped = 0;  // will not start: a dependency failed, or the run stopped
  Resources in_use;    // what the running jobs were admitted with
  Resources capacity;  // what wp packs against; iops kUnlimited: no figure
  std::vector<ProgressJob> jobs;  // the running ones, in the order to show
  double elapsed = 0;             // seconds since the run began
  std::optional<double> eta;      // seconds until the last job ends, when known
};

struct ProgressStyle {
  int width = 80;        // columns of the terminal
  int height = 24;       // rows of the terminal; the area takes at most half
  bool unicode = false;  // block characters for bars, else ASCII only
  bool color = false;    // ANSI colours (never with NO_COLOR)
};

// The area's lines, none wider than width - 1 columns (a line filling the
// last column wraps on some terminals, which would break erasing it), no
// newlines. Empty when the terminal is too small for even the counts.
std::vector<std::string> render_progress(const ProgressSnapshot& snapshot,
                                         const ProgressStyle& style);

// "0.6s", "12s", "2m05s", "1h02m": tenths below 10 s, else whole seconds
// or minutes, for figures redrawn ten times a second.
std::string clock_text(double seconds);

}  // namespace wp::report
