// wp's own messages go through spdlog, one named logger per area, to stderr.
// info is what a user wants in CI; debug is for us (-v).
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace wp::log {

enum class Verbosity { Quiet, Normal, Verbose };

// Call once, before any logger is used. `colour`: warnings in yellow and
// errors in red; only for a terminal that wants it (see cli's use_colour).
void setup(Verbosity verbosity, bool colour = false);

// The logger of an area ("run", "manifest", "cli"); created on first use.
std::shared_ptr<spdlog::logger> get(const std::string& area);

}  // namespace wp::log
